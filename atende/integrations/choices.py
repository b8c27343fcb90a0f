from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    """The event types a webhook subscribes to (a stable, documented list; see docs/webhooks.md)."""

    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_UPDATED = "ticket.updated", _("Ticket updated (fields, tags, links, requester…)")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("Ticket status changed")
    TICKET_ASSIGNED = "ticket.assigned", _("Ticket assigned (agent or team)")
    TICKET_MERGED = "ticket.merged", _("Ticket merged")
    MESSAGE_ADDED = "message.added", _("Reply or note added")
    SURVEY_ANSWERED = "survey.answered", _("Satisfaction survey answered")
    SLA_WARNING = "sla.warning", _("SLA target close to breach")
    SLA_BREACHED = "sla.breached", _("SLA target breached")


# TicketEventType → webhook event. Types not listed (notifications sent, SLA bookkeeping…) are not delivered.
EVENT_MAP: dict[str, str] = {
    "TICKET_CREATED": WebhookEvent.TICKET_CREATED,
    "STATUS_CHANGED": WebhookEvent.TICKET_STATUS_CHANGED,
    "ASSIGNEE_CHANGED": WebhookEvent.TICKET_ASSIGNED,
    "TEAM_CHANGED": WebhookEvent.TICKET_ASSIGNED,
    "PRIORITY_CHANGED": WebhookEvent.TICKET_UPDATED,
    "FIELDS_CHANGED": WebhookEvent.TICKET_UPDATED,
    "TAGS_CHANGED": WebhookEvent.TICKET_UPDATED,
    "REQUESTER_CHANGED": WebhookEvent.TICKET_UPDATED,
    "FOLLOWERS_CHANGED": WebhookEvent.TICKET_UPDATED,
    "ATTACHMENT_ADDED": WebhookEvent.TICKET_UPDATED,
    "LINK_ADDED": WebhookEvent.TICKET_UPDATED,
    "LINK_REMOVED": WebhookEvent.TICKET_UPDATED,
    "MARKED_SPAM": WebhookEvent.TICKET_UPDATED,
    "MERGED": WebhookEvent.TICKET_MERGED,
    "REPLY_ADDED": WebhookEvent.MESSAGE_ADDED,
    "NOTE_ADDED": WebhookEvent.MESSAGE_ADDED,
    "SURVEY_ANSWERED": WebhookEvent.SURVEY_ANSWERED,
    "SLA_WARNING": WebhookEvent.SLA_WARNING,
    "SLA_BREACHED": WebhookEvent.SLA_BREACHED,
}


class PrivacyAction(models.TextChoices):
    EXPORT = "export", _("Data export")
    ERASE = "erase", _("Erasure")

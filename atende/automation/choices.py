from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.tickets.choices import TicketEventType as E


class AssignmentStrategy(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("Skills match")


class TriggerEvent(models.TextChoices):
    CREATED = "created", _("Ticket created")
    UPDATED = "updated", _("Ticket updated (any field, status, assignment or tags)")
    CUSTOMER_REPLIED = "customer_replied", _("Replied by the customer")
    AGENT_REPLIED = "agent_replied", _("Replied by an agent")
    NOTE_ADDED = "note_added", _("Internal note added")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNEE_CHANGED = "assignee_changed", _("Assignee or team changed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    TAGS_CHANGED = "tags_changed", _("Tags changed")
    SLA_WARNING = "sla_warning", _("SLA target close to breach")
    SLA_BREACHED = "sla_breached", _("SLA target breached")


UPDATE_EVENTS = {E.FIELDS_CHANGED, E.PRIORITY_CHANGED, E.STATUS_CHANGED, E.ASSIGNEE_CHANGED, E.TEAM_CHANGED,
                 E.TAGS_CHANGED, E.REQUESTER_CHANGED, E.FOLLOWERS_CHANGED}


def trigger_events_for(payload: dict) -> set[str]:
    """The trigger event names a ticket event counts as."""
    kind = payload.get("type")
    names: set[str] = set()
    if kind == E.TICKET_CREATED:
        names.add(TriggerEvent.CREATED)
    if kind in UPDATE_EVENTS:
        names.add(TriggerEvent.UPDATED)
    if kind == E.REPLY_ADDED:
        author = (payload.get("data") or {}).get("author_kind")
        names.add(TriggerEvent.CUSTOMER_REPLIED if author == "customer" else TriggerEvent.AGENT_REPLIED)
    single = {E.NOTE_ADDED: TriggerEvent.NOTE_ADDED, E.STATUS_CHANGED: TriggerEvent.STATUS_CHANGED,
              E.ASSIGNEE_CHANGED: TriggerEvent.ASSIGNEE_CHANGED, E.TEAM_CHANGED: TriggerEvent.ASSIGNEE_CHANGED,
              E.PRIORITY_CHANGED: TriggerEvent.PRIORITY_CHANGED, E.TAGS_CHANGED: TriggerEvent.TAGS_CHANGED,
              E.SLA_WARNING: TriggerEvent.SLA_WARNING, E.SLA_BREACHED: TriggerEvent.SLA_BREACHED}
    if kind in single:
        names.add(single[kind])
    return names


class TimeAnchor(models.TextChoices):
    CREATED = "created_at", _("Created")
    UPDATED = "updated_at", _("Last updated")
    SOLVED = "solved_at", _("Solved")
    STATUS_CHANGED = "status_changed_at", _("Status last changed (pending since, on hold since…)")
    PAUSED = "paused_since", _("Waiting (pending or on hold) since")
    LAST_CUSTOMER_REPLY = "last_customer_reply_at", _("Last customer reply")
    LAST_AGENT_REPLY = "last_agent_reply_at", _("Last agent reply")


class RunStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class MessageVisibility(models.TextChoices):
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")

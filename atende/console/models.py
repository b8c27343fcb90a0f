"""Saved views: an agent's own or a team's named ticket list (filters, columns, sort)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel


class ListColumn(models.TextChoices):
    NUMBER = "number", _("Number")
    SUBJECT = "subject", _("Subject")
    REQUESTER = "requester", _("Requester")
    ORGANIZATION = "organization", _("Organisation")
    STATUS = "status", _("Status")
    PRIORITY = "priority", _("Priority")
    TEAM = "team", _("Team")
    ASSIGNEE = "assignee", _("Assignee")
    CATEGORY = "category", _("Category")
    TYPE = "type", _("Type")
    CHANNEL = "channel", _("Channel")
    TAGS = "tags", _("Tags")
    CREATED = "created_at", _("Created")
    UPDATED = "updated_at", _("Updated")
    SLA_DUE = "sla_due_at", _("Next SLA target")


DEFAULT_COLUMNS = [ListColumn.NUMBER, ListColumn.SUBJECT, ListColumn.REQUESTER, ListColumn.STATUS,
                   ListColumn.PRIORITY, ListColumn.SLA_DUE, ListColumn.ASSIGNEE, ListColumn.UPDATED]


class ListSort(models.TextChoices):
    """Each sort is backed by an index on tickets, so keyset pages stay fast at any depth."""

    UPDATED_DESC = "-updated_at", _("Recently updated first")
    UPDATED_ASC = "updated_at", _("Least recently updated first")
    CREATED_DESC = "-created_at", _("Newest first")
    CREATED_ASC = "created_at", _("Oldest first")
    SLA_DUE = "sla_due_at", _("Next SLA target first")
    SOLVED_DESC = "-solved_at", _("Recently solved first")
    NUMBER_DESC = "-id", _("Highest number first")


class SavedView(BaseModel):
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views",
                              verbose_name=_("owner"))
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="saved_views", verbose_name=_("shared with team"),
                             help_text=_("Leave empty to keep the view personal."))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    sort = models.CharField(_("sort"), max_length=20, choices=ListSort.choices, default=ListSort.UPDATED_DESC)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        indexes = [models.Index(fields=["owner", "position"], name="savedview_owner"),
                   models.Index(fields=["team", "position"], name="savedview_team", condition=Q(team__isnull=False))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.team_id is not None


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mentioned you in a note")
    ASSIGNED = "assigned", _("Assigned a ticket to you")
    CUSTOMER_REPLIED = "customer_replied", _("Replied on your ticket")
    SLA_WARNING = "sla_warning", _("SLA target close to breach")
    SLA_BREACHED = "sla_breached", _("SLA target breached")


class Notification(models.Model):
    """One line in an agent's bell, made from a committed ticket event by the events subscriber
    (``console.subscribers``): at most once per agent, event and kind, so a batch handed over again adds nothing."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                                  verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+", verbose_name=_("ticket"))
    event = models.ForeignKey("tickets.TicketEvent", on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("event"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["recipient", "event", "kind"],
                                               name="notification_once_per_event_kind")]
        indexes = [models.Index(fields=["recipient", "-id"], name="notification_recipient"),
                   models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id} → {self.recipient_id}"

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
                   ListColumn.PRIORITY, ListColumn.ASSIGNEE, ListColumn.UPDATED]


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

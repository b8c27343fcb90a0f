"""Routing rules, triggers, time rules, macros, canned replies and the bookkeeping that makes them run once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.automation.choices import (
    MessageVisibility,
    RunStatus,
    TimeAnchor,
)
from atende.core.models import BaseModel


class OrderedRule(BaseModel):
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(OrderedRule):
    """Applied in order when a ticket is created; ``stop`` ends the walk at the first match."""

    stop = models.BooleanField(_("stop after this rule matches"), default=True)

    class Meta(OrderedRule.Meta):
        verbose_name = _("routing rule")


class Trigger(OrderedRule):
    events = models.JSONField(_("runs on"), default=list)

    class Meta(OrderedRule.Meta):
        verbose_name = _("trigger")


class TimeRule(OrderedRule):
    anchor = models.CharField(_("hours since"), max_length=32, choices=TimeAnchor.choices)
    hours = models.DecimalField(_("hours"), max_digits=8, decimal_places=2)
    business_hours = models.BooleanField(_("count business hours only"), default=False)

    class Meta(OrderedRule.Meta):
        verbose_name = _("time rule")


class TimeRuleSchedule(models.Model):
    """When a time rule is next due for one ticket. The minute job reads only rows whose ``due_at`` passed."""

    rule = models.ForeignKey(TimeRule, on_delete=models.CASCADE, related_name="schedules")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    anchor_at = models.DateTimeField()
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "ticket"], name="time_rule_schedule_unique")]
        indexes = [models.Index(fields=["due_at"], name="time_rule_due", condition=Q(fired_at=None))]

    def __str__(self) -> str:
        return f"time rule {self.rule_id} on ticket {self.ticket_id} due {self.due_at:%Y-%m-%d %H:%M}"


class RuleRun(models.Model):
    """One rule handled one event (or one time-rule occurrence). The unique key makes every rule fire once."""

    kind = models.CharField(max_length=16)  # trigger, routing, assignment, sla_action, time_rule
    rule_id = models.BigIntegerField()
    event_id = models.BigIntegerField()  # for time rules: the schedule row
    ticket = models.ForeignKey("tickets.Ticket", null=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.APPLIED)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "rule_id", "event_id"], name="rule_run_once")]
        indexes = [models.Index(fields=["event_id"], name="rule_run_event"),
                   models.Index(fields=["kind", "-created_at"], name="rule_run_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.rule_id} on event {self.event_id}: {self.status}"


class AssignmentCursor(models.Model):
    """Round robin: the last agent a team handed a ticket to (row locked while choosing the next)."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="+")
    last_user_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"team {self.team_id} → {self.last_user_id}"


class Macro(BaseModel):
    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="macros", verbose_name=_("owner (personal macro)"))
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    reply_text = models.TextField(_("reply text"), blank=True)
    reply_visibility = models.CharField(_("send the text as"), max_length=10, choices=MessageVisibility.choices,
                                        default=MessageVisibility.REPLY)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("macro")

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None


class CannedReply(BaseModel):
    title = models.CharField(_("title"), max_length=150)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=10, blank=True,
                                choices=[("", _("Any")), ("en", "English"), ("pt-br", "Português (Brasil)")])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="canned_replies", verbose_name=_("owner (personal)"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title

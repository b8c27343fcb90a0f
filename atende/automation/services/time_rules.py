"""Time rules: "hours since <timestamp>" → actions, due times kept per (rule, ticket) in an indexed table.

Each ticket event reschedules that ticket's rows (cheap: a handful of rules); the minute job reads only rows
whose ``due_at`` has passed. A row remembers the timestamp it was armed for, so each rule acts once per ticket
for a given occurrence (once per "pending since …"); a new occurrence (pending again later) arms it again."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from atende.automation.models import TimeRule, TimeRuleSchedule
from atende.automation.rules.actions import actions_apply
from atende.automation.rules.conditions import matches
from atende.automation.rules.context import RuleContext
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket

logger = logging.getLogger(__name__)


def time_rule_due_at(rule: TimeRule, ticket: Ticket, anchor: dt.datetime) -> dt.datetime:
    minutes = float(Decimal(rule.hours) * 60)
    if rule.business_hours:
        from atende.sla.business_time import add_business_minutes
        from atende.sla.selectors import calendar_for_team

        return add_business_minutes(calendar_for_team(ticket.team_id), anchor, minutes)
    return anchor + dt.timedelta(minutes=minutes)


def _relevant(rule: TimeRule, ticket: Ticket) -> dt.datetime | None:
    anchor = getattr(ticket, rule.anchor)
    if anchor is None or ticket.status == TicketStatus.CLOSED:
        return None
    return anchor if matches(rule.conditions, RuleContext(ticket)) else None


def time_rules_reschedule(*, ticket: Ticket, rules: list[TimeRule] | None = None) -> None:
    """Bring this ticket's schedule rows up to date with its current state."""
    rules = rules if rules is not None else list(TimeRule.objects.filter(is_active=True))
    if not rules:
        return
    existing = {row.rule_id: row for row in TimeRuleSchedule.objects.filter(ticket=ticket, rule__in=rules)}
    for rule in rules:
        row = existing.get(rule.pk)
        anchor = _relevant(rule, ticket)
        if anchor is None:
            if row is not None and row.fired_at is None:
                row.delete()
            continue
        if row is not None and row.anchor_at == anchor:
            continue  # still armed for (or already fired for) this occurrence
        TimeRuleSchedule.objects.update_or_create(rule=rule, ticket=ticket, defaults={
            "anchor_at": anchor, "due_at": time_rule_due_at(rule, ticket, anchor), "fired_at": None, "last_error": ""})


def time_rule_backfill(*, rule_id: int, batch: int = 1000) -> int:
    """After a rule is saved: arm it for the existing tickets (the one scan, at save time, never every minute)."""
    rule = TimeRule.objects.filter(pk=rule_id, is_active=True).first()
    TimeRuleSchedule.objects.filter(rule_id=rule_id, fired_at=None).delete()
    if rule is None:
        return 0
    qs = (Ticket.objects.exclude(status=TicketStatus.CLOSED).filter(**{f"{rule.anchor}__isnull": False})
          .select_related("requester", "team", "assignee").order_by("pk"))
    count = 0
    for ticket in qs.iterator(chunk_size=batch):
        time_rules_reschedule(ticket=ticket, rules=[rule])
        count += 1
    return count


def time_rules_run(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Apply every time rule whose due time has passed; each row in its own transaction."""
    now = now or timezone.now()
    due = list(TimeRuleSchedule.objects.filter(fired_at=None, due_at__lte=now).order_by("due_at")
               .values_list("pk", flat=True)[:limit])
    fired = 0
    for row_id in due:
        try:
            with transaction.atomic():
                fired += _fire(row_id, now)
        except DomainError as exc:
            logger.info("time rule schedule %s failed: %s", row_id, exc)
            TimeRuleSchedule.objects.filter(pk=row_id).update(fired_at=now, last_error=str(exc)[:2000])
    return fired


def _fire(row_id: int, now: dt.datetime) -> int:
    row = (TimeRuleSchedule.objects.select_for_update(skip_locked=True).select_related("rule")
           .filter(pk=row_id, fired_at=None).first())
    if row is None:
        return 0  # another worker has it, or it fired already
    rule = row.rule
    ticket = Ticket.objects.select_related("requester", "team", "assignee").get(pk=row.ticket_id)
    anchor = _relevant(rule, ticket) if rule.is_active else None
    if anchor is None:
        row.delete()  # no longer applies; the next event re-arms it if it does again
        return 0
    if anchor != row.anchor_at:
        row.anchor_at, row.due_at = anchor, time_rule_due_at(rule, ticket, anchor)
        row.save(update_fields=["anchor_at", "due_at"])
        if row.due_at > now:
            return 0
    row.fired_at = now
    row.save(update_fields=["fired_at"])
    actions_apply(ticket=ticket, actions=rule.actions, actor=Actor.automation(),
                  origin={"kind": "time_rule", "id": rule.pk, "name": rule.name})
    return 1

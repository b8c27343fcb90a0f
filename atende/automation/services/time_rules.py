"""Time rules: "hours since <timestamp>" → actions, due times kept per (rule, ticket) in an indexed table.

Each ticket event reschedules that ticket's rows (cheap: a handful of rules); the minute job reads only rows
whose ``due_at`` has passed. A row remembers the timestamp it was armed for, so each rule acts once per ticket
for a given occurrence (once per "pending since …"); a new occurrence (pending again later) arms it again."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from atende.automation.models import TimeRule, TimeRuleSchedule
from atende.automation.rules.actions import actions_apply
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.core.prepared import padded, prepared_read
from atende.rules.conditions import matches
from atende.rules.context import RuleContext, tickets_for_conditions
from atende.sla.business_time import add_business_minutes
from atende.sla.selectors import calendar_for_team
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket

if TYPE_CHECKING:
    from atende.sla.business_time import CalendarSpec

logger = logging.getLogger(__name__)


def time_rule_due_at(rule: TimeRule, ticket: Ticket, anchor: dt.datetime, *,
                     calendar_for: Callable[[int | None], CalendarSpec] | None = None) -> dt.datetime:
    minutes = float(Decimal(rule.hours) * 60)
    if rule.business_hours:
        return add_business_minutes((calendar_for or calendar_for_team)(ticket.team_id), anchor, minutes)
    return anchor + dt.timedelta(minutes=minutes)


def _relevant(rule: TimeRule, ticket: Ticket, *, field_defs: dict | None = None) -> dt.datetime | None:
    anchor = getattr(ticket, rule.anchor)
    if anchor is None or ticket.status == TicketStatus.CLOSED:
        return None
    return anchor if matches(rule.conditions, RuleContext(ticket), field_defs=field_defs) else None


class _Lookups:
    """What evaluating rules against many tickets reads once instead of per ticket: team calendars and custom
    field definitions. Kept for one reschedule or one backfill run, so an admin's edits apply to the next one."""

    def __init__(self) -> None:
        self.calendar_for = functools.cache(calendar_for_team)
        self.field_defs: dict = {}


_KEEP, _DROP = "keep", "drop"


def _schedule_change(rule: TimeRule, ticket: Ticket, row: TimeRuleSchedule | None,
                     lookups: _Lookups) -> TimeRuleSchedule | str:
    """What (rule, ticket) needs given its current row: _KEEP it, _DROP it (armed but no longer applies), or
    the returned unsaved row to write. The per-event reschedule and the backfill both decide here."""
    anchor = _relevant(rule, ticket, field_defs=lookups.field_defs)
    if anchor is None:
        return _DROP if row is not None and row.fired_at is None else _KEEP  # a fired row stays: once per occurrence
    if row is not None and row.anchor_at == anchor:
        return _KEEP  # still armed for (or already fired for) this occurrence
    return TimeRuleSchedule(rule=rule, ticket_id=ticket.pk, anchor_at=anchor, fired_at=None, last_error="",
                            due_at=time_rule_due_at(rule, ticket, anchor, calendar_for=lookups.calendar_for))


def _schedule_apply(changes: list[tuple[TimeRuleSchedule | None, TimeRuleSchedule | str]]) -> None:
    """Write ``(row, change)`` pairs from ``_schedule_change``: a delete and a bulk upsert, in one short
    transaction (SQLite splits the upsert at its 999-parameter limit). The upsert relies on the (rule, ticket)
    unique constraint, so a concurrent writer cannot make a second row; re-arming a row clears its fired mark
    for the new occurrence."""
    drop = [row.pk for row, change in changes if change == _DROP]
    arm = [change for _row, change in changes if isinstance(change, TimeRuleSchedule)]
    if not drop and not arm:
        return
    with transaction.atomic():
        if drop:
            TimeRuleSchedule.objects.filter(pk__in=drop, fired_at=None).delete()
        if arm:
            TimeRuleSchedule.objects.bulk_create(arm, update_conflicts=True, unique_fields=["rule", "ticket"],
                                                 update_fields=["anchor_at", "due_at", "fired_at", "last_error"])


def time_rules_reschedule(*, ticket: Ticket, rules: list[TimeRule] | None = None) -> None:
    """Bring this ticket's schedule rows up to date with its current state."""
    rules = rules if rules is not None else list(TimeRule.objects.filter(is_active=True))
    time_rules_reschedule_many(tickets=[ticket], rules=rules)


def _schedules(count: int, *ids: int):
    """The schedule rows of the first ``count`` ids' tickets for the other ids' rules (a read compiled once)."""
    return TimeRuleSchedule.objects.filter(ticket_id__in=ids[:count], rule_id__in=ids[count:])


def time_rules_reschedule_many(*, tickets: list[Ticket], rules: list[TimeRule]) -> None:
    """``time_rules_reschedule`` for a batch of tickets: their schedule rows read in one query, written in one
    delete and one upsert."""
    if not rules or not tickets:
        return
    ticket_ids = padded(sorted(t.pk for t in tickets))
    existing = {(row.ticket_id, row.rule_id): row for row in
                prepared_read(("automation.schedules", len(ticket_ids)), functools.partial(_schedules, len(ticket_ids)),
                              [*ticket_ids, *padded(sorted(rule.pk for rule in rules))])}
    lookups = _Lookups()
    _schedule_apply([(existing.get((ticket.pk, rule.pk)),
                      _schedule_change(rule, ticket, existing.get((ticket.pk, rule.pk)), lookups))
                     for ticket in tickets for rule in rules])


def time_rule_backfill(*, rule_id: int, batch: int = 1000) -> int:
    """After a rule is saved: arm it for the existing tickets (the one scan, at save time, never every minute).

    Starts from no armed rows (fired ones stay, so a ticket is not acted on twice for one occurrence), then
    walks the candidate tickets by primary key, ``batch`` at a time (keyset, no OFFSET): conditions are
    evaluated in Python and each batch is written in its own short transaction, so other writers get the
    database between batches and an interrupted run (the task is idempotent) loses at most one batch.
    Returns the number of tickets examined."""
    rule = TimeRule.objects.filter(pk=rule_id, is_active=True).first()
    _unfired_delete(rule_id=rule_id, batch=batch)
    if rule is None:
        return 0
    candidates = tickets_for_conditions(
        Ticket.objects.exclude(status=TicketStatus.CLOSED).filter(**{f"{rule.anchor}__isnull": False}),
        rule.conditions, fields=["status", "team", rule.anchor]).order_by("pk")
    lookups = _Lookups()
    count, last = 0, 0
    while tickets := list(candidates.filter(pk__gt=last)[:batch]):
        first, last = tickets[0].pk, tickets[-1].pk
        existing = {row.ticket_id: row for row in
                    TimeRuleSchedule.objects.filter(rule=rule, ticket_id__gte=first, ticket_id__lte=last)}
        _schedule_apply([(existing.get(t.pk), _schedule_change(rule, t, existing.get(t.pk), lookups))
                         for t in tickets])
        count += len(tickets)
    return count


def _unfired_delete(*, rule_id: int, batch: int) -> None:
    """Delete the rule's armed rows a range of tickets at a time (along the (rule, ticket) index), so a rule
    armed for many tickets never holds the write lock for long."""
    unfired = TimeRuleSchedule.objects.filter(rule_id=rule_id, fired_at=None)
    last = 0
    while ids := list(unfired.filter(ticket_id__gt=last).order_by("ticket_id")
                      .values_list("ticket_id", flat=True)[:batch]):
        unfired.filter(ticket_id__gt=last, ticket_id__lte=ids[-1]).delete()
        last = ids[-1]


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

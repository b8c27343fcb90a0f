"""SLA reads: which calendar and policy apply to a ticket, the clocks shown on the ticket page, breaching soon."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from atende.core.memo import batch_cached
from atende.rules.conditions import matches
from atende.rules.context import RuleContext
from atende.sla.business_time import CalendarSpec
from atende.sla.models import BusinessCalendar, SlaPolicy
from atende.tickets.models import Ticket
from atende.tickets.selectors import ticket_list_for_user


def _load(calendar_id: int | None) -> CalendarSpec | None:
    if calendar_id is None:
        return None
    return batch_cached(("sla.calendar", calendar_id), lambda: _spec(calendar_id))


def _spec(calendar_id: int) -> CalendarSpec:
    calendar = BusinessCalendar.objects.prefetch_related("hours", "holidays").get(pk=calendar_id)
    try:
        return calendar.spec()
    except ValueError:  # a calendar without opening hours counts as always open rather than never
        return CalendarSpec.twenty_four_seven()


def calendar_for_team(team_id: int | None) -> CalendarSpec:
    """The team's calendar, else the default calendar, else 24/7."""
    return batch_cached(("sla.team_calendar", team_id), lambda: _calendar_for_team(team_id))


def _calendar_for_team(team_id: int | None) -> CalendarSpec:
    calendar_id = None
    if team_id:
        calendar_id = BusinessCalendar.objects.filter(calendarteam__team_id=team_id).values_list("id", flat=True).first()
    if calendar_id is None:
        calendar_id = BusinessCalendar.objects.filter(is_default=True).values_list("id", flat=True).first()
    return _load(calendar_id) or CalendarSpec.twenty_four_seven()


def calendar_for_policy(policy: SlaPolicy, ticket: Ticket) -> CalendarSpec:
    if not policy.business_hours:
        return CalendarSpec.twenty_four_seven()
    if policy.calendar_id:
        return _load(policy.calendar_id) or CalendarSpec.twenty_four_seven()
    return calendar_for_team(ticket.team_id)


def policy_for_ticket(ticket: Ticket, *, payload: dict | None = None) -> SlaPolicy | None:
    """The first active policy (by position) whose conditions match the ticket."""
    ctx = RuleContext(ticket, payload)
    for policy in active_policies():
        if matches(policy.conditions or {}, ctx):
            return policy
    return None


def expected_first_reply_minutes(ticket: Ticket) -> int | None:
    """The first-reply target (business minutes) of the SLA policy that applies to the ticket now, if any (for
    a ticket just created, before the SLA subscriber has recorded it)."""
    policy = policy_for_ticket(ticket)
    return policy.first_reply_minutes if policy is not None and policy.first_reply_minutes else None


def active_policies() -> list[SlaPolicy]:
    """The active policies in the order they are tried (read once per batch of events)."""
    return batch_cached("sla.active_policies",
                        lambda: list(SlaPolicy.objects.filter(is_active=True).order_by("position", "id")))


def policy_by_id(policy_id: int | None) -> SlaPolicy | None:
    if policy_id is None:
        return None
    return batch_cached(("sla.policy", policy_id), lambda: SlaPolicy.objects.filter(pk=policy_id).first())


def tickets_breaching_soon(*, user, within: dt.timedelta = dt.timedelta(hours=4)) -> QuerySet[Ticket]:
    """Open tickets whose next SLA target is due within ``within`` (or already breached), soonest first."""
    horizon = timezone.now() + within
    return (ticket_list_for_user(user=user).filter(sla_due_at__isnull=False, sla_due_at__lte=horizon)
            .with_list_relations().order_by("sla_due_at", "id"))


def policy_list() -> QuerySet[SlaPolicy]:
    """Every policy in the order they are tried, with its calendar (the settings list)."""
    return SlaPolicy.objects.select_related("calendar").order_by("position", "id")


def calendar_list() -> QuerySet[BusinessCalendar]:
    """Every business calendar with its hours, holidays and teams (the settings list)."""
    return BusinessCalendar.objects.prefetch_related("hours", "holidays", "teams").order_by("name")

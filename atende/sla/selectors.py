"""SLA reads: which calendar and policy apply to a ticket, the clocks shown on the ticket page, breaching soon."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from atende.accounts.selectors import AGENTS_AND_TEAMS
from atende.core import generations
from atende.core.memo import batch_cached
from atende.rules.conditions import matches
from atende.rules.context import RuleContext
from atende.sla.business_time import CalendarSpec
from atende.sla.models import BusinessCalendar, CalendarTeam, SlaPolicy
from atende.tickets.models import Ticket
from atende.tickets.selectors import ticket_list_for_user

# The names of the process copies (``core.generations``) of the SLA's configuration, outdated by the services
# that write it (``sla.services.definitions``; ``rules.services.rule_move`` outdates a reordered model's label).
POLICIES = "sla.slapolicy"
CALENDARS = "sla.businesscalendar"


def _calendars() -> dict[str, Any]:
    """Every calendar's spec, the team each calendar serves and the default calendar, kept per process until a
    calendar (or a team) changes; the tokens are looked at once per batch of events."""
    return batch_cached(CALENDARS, lambda: generations.kept((CALENDARS, AGENTS_AND_TEAMS), _calendars_read))


def _calendars_read() -> dict[str, Any]:
    specs, default = {}, None
    for calendar in BusinessCalendar.objects.prefetch_related("hours", "holidays").order_by("id"):
        try:
            specs[calendar.pk] = calendar.spec()
        except ValueError:  # a calendar without opening hours counts as always open rather than never
            specs[calendar.pk] = CalendarSpec.twenty_four_seven()
        if calendar.is_default:  # at most one (a unique constraint)
            default = calendar.pk
    teams = dict(CalendarTeam.objects.values_list("team_id", "calendar_id"))  # a team has at most one
    return MappingProxyType({"specs": MappingProxyType(specs), "teams": MappingProxyType(teams),
                             "default": default})


def _load(calendar_id: int | None) -> CalendarSpec | None:
    if calendar_id is None:
        return None
    return _calendars()["specs"].get(calendar_id)


def calendar_for_team(team_id: int | None) -> CalendarSpec:
    """The team's calendar, else the default calendar, else 24/7."""
    calendars = _calendars()
    calendar_id = calendars["teams"].get(team_id) if team_id else None
    if calendar_id is None:
        calendar_id = calendars["default"]
    return calendars["specs"].get(calendar_id) or CalendarSpec.twenty_four_seven()


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


def _policies() -> MappingProxyType:
    """Every policy by id, in the order they are tried, kept per process until a policy changes."""
    return batch_cached(POLICIES, lambda: generations.kept(POLICIES, lambda: MappingProxyType(
        {policy.pk: policy for policy in SlaPolicy.objects.order_by("position", "id")})))


def active_policies() -> list[SlaPolicy]:
    """The active policies in the order they are tried (shared copies: not to be changed)."""
    return [policy for policy in _policies().values() if policy.is_active]


def policy_by_id(policy_id: int | None) -> SlaPolicy | None:
    if policy_id is None:
        return None
    return _policies().get(policy_id)


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

"""Assignment strategies (round robin, least loaded, skills match) respecting capacity and availability.

Choosing an agent locks the candidate agents' rows (in id order, so two choosers never deadlock) before counting
their open tickets. Two tickets arriving at once are therefore assigned one after the other, and the second sees
the first: an agent's capacity is never exceeded, even with several web processes and workers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from atende.accounts.choices import Availability, Role
from atende.accounts.models import Team, User
from atende.accounts.services import user_update_profile
from atende.audit.services import audit_settings_change
from atende.automation.choices import AssignmentStrategy
from atende.automation.models import AssignmentCursor
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.models import Ticket
from atende.tickets.services import ticket_assign
from atende.tickets.states import UNSOLVED_STATUSES


def eligible_agent_ids(team: Team, *, exclude: set[int] = frozenset()) -> list[int]:
    ids = (team.members.filter(role__in=[Role.ADMIN, Role.AGENT], is_active=True, availability=Availability.ONLINE)
           .exclude(pk__in=exclude).order_by("pk").values_list("pk", flat=True))
    return list(ids)


def open_ticket_counts(agent_ids: list[int]) -> dict[int, int]:
    rows = (Ticket.objects.filter(assignee_id__in=agent_ids, status__in=UNSOLVED_STATUSES)
            .values("assignee_id").annotate(n=Count("id")))
    return {row["assignee_id"]: row["n"] for row in rows}


def _locked_cursor(team: Team) -> AssignmentCursor:
    cursor, _created = AssignmentCursor.objects.get_or_create(team=team)
    return AssignmentCursor.objects.select_for_update().get(pk=cursor.pk)


def _has_room(agent: User, loads: dict[int, int]) -> bool:
    return agent.capacity is None or loads.get(agent.pk, 0) < agent.capacity


def _pick(agents: list[User], loads: dict[int, int], *, strategy: str, wanted: set[str],
          last_user_id: int | None) -> User:
    """The agent ``strategy`` picks among ``agents`` (in id order, at least one with room) given their open
    tickets: round robin the next after ``last_user_id``; skills the best match for ``wanted``, least loaded among
    equals (least loaded when nobody matches); otherwise the least loaded."""
    with_room = [a for a in agents if _has_room(a, loads)]
    if strategy == AssignmentStrategy.ROUND_ROBIN:
        after = [a for a in with_room if last_user_id is None or a.pk > last_user_id]
        return (after or with_room)[0]
    if strategy == AssignmentStrategy.SKILLS:
        scored = [(len(wanted & {str(s).lower() for s in (a.skills or [])}), a) for a in with_room]
        best = max(score for score, _a in scored)
        if best > 0:
            with_room = [a for score, a in scored if score == best]
    return min(with_room, key=lambda a: (loads.get(a.pk, 0), a.pk))


def _skills_wanted(ticket: Ticket) -> set[str]:
    wanted = {t.lower() for t in ticket.tags.values_list("name", flat=True)}
    if ticket.language:
        wanted.add(ticket.language.lower())
    return wanted


def choose_agent(*, ticket: Ticket, team: Team, strategy: str, exclude: set[int] = frozenset()) -> User | None:
    """Lock the candidates and pick one with room left; ``None`` when nobody is available."""
    ids = eligible_agent_ids(team, exclude=exclude)
    if not ids:
        return None
    agents = list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    loads = open_ticket_counts(ids)
    if not any(_has_room(a, loads) for a in agents):
        return None
    cursor = _locked_cursor(team) if strategy == AssignmentStrategy.ROUND_ROBIN else None
    chosen = _pick(agents, loads, strategy=strategy,
                   wanted=_skills_wanted(ticket) if strategy == AssignmentStrategy.SKILLS else set(),
                   last_user_id=cursor.last_user_id if cursor else None)
    if cursor is not None:
        cursor.last_user_id = chosen.pk
        cursor.save(update_fields=["last_user_id"])
    return chosen


@dataclass
class _TeamPool:
    team: Team
    agents: list[User]
    loads: dict[int, int]
    cursor: AssignmentCursor | None = None


class BatchAssigner:
    """Automatic assignment for a batch of new tickets, staged through a ``TicketChanges``: per team, the candidate
    agents are locked and their open tickets counted once (held until the batch's transaction ends, as
    ``choose_agent`` holds them for one ticket) and the round-robin cursor read once; each ticket then sees the
    tickets handed out before it in the batch (their load, the cursor's move), exactly as one at a time would.
    ``save`` writes the moved cursors; ``clear`` forgets everything read (the rows may change under another path)."""

    def __init__(self) -> None:
        self._pools: dict[int, _TeamPool] = {}
        self._moved: dict[int, AssignmentCursor] = {}

    def __bool__(self) -> bool:
        return bool(self._pools)

    def _pool(self, team_id: int) -> _TeamPool:
        pool = self._pools.get(team_id)
        if pool is None:
            team = Team.objects.get(pk=team_id)
            ids = eligible_agent_ids(team) if team.assignment_strategy != AssignmentStrategy.MANUAL else []
            agents = list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk")) if ids else []
            pool = self._pools[team_id] = _TeamPool(team, agents, open_ticket_counts(ids) if ids else {})
        return pool

    def _cursor(self, pool: _TeamPool) -> AssignmentCursor:
        if pool.cursor is None:
            pool.cursor = _locked_cursor(pool.team)
        return pool.cursor

    def assign(self, ticket: Ticket, *, staged, actor: Actor, skills: set[str]) -> bool:
        """``ticket_auto_assign`` for a ticket of the batch (no reassignment), applied through ``staged``."""
        if ticket.team_id is None or ticket.assignee_id or ticket.status not in UNSOLVED_STATUSES:
            return False
        pool = self._pool(ticket.team_id)
        strategy = pool.team.assignment_strategy
        if strategy == AssignmentStrategy.MANUAL:
            return False
        loads = pool.loads
        if not any(_has_room(a, loads) for a in pool.agents):
            return False
        cursor = self._cursor(pool) if strategy == AssignmentStrategy.ROUND_ROBIN else None
        wanted = {s.lower() for s in skills} | ({ticket.language.lower()} if ticket.language else set())
        chosen = _pick(pool.agents, loads, strategy=strategy, wanted=wanted,
                       last_user_id=cursor.last_user_id if cursor else None)
        staged.assign(ticket, actor=actor, team=pool.team, assignee=chosen, reason=f"auto:{strategy}")
        loads[chosen.pk] = loads.get(chosen.pk, 0) + 1
        if cursor is not None:
            cursor.last_user_id = chosen.pk
            self._moved[cursor.pk] = cursor
        return True

    def save(self) -> None:
        if self._moved:
            AssignmentCursor.objects.bulk_update(list(self._moved.values()), ["last_user_id"])
            self._moved = {}

    def clear(self) -> None:
        self.save()
        self._pools = {}


@transaction.atomic
def ticket_auto_assign(*, ticket: Ticket, actor: Actor, reassign: bool = False,
                       exclude: set[int] = frozenset()) -> Ticket | None:
    """Assign ``ticket`` by its team's strategy. Returns the ticket, or ``None`` if nobody could take it."""
    ticket = Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related("team").get(pk=ticket.pk)
    team = ticket.team
    if team is None or team.assignment_strategy == AssignmentStrategy.MANUAL or ticket.status not in UNSOLVED_STATUSES:
        return None
    if ticket.assignee_id and not reassign:
        return None
    exclude = set(exclude) | ({ticket.assignee_id} if ticket.assignee_id else set())
    agent = choose_agent(ticket=ticket, team=team, strategy=team.assignment_strategy, exclude=exclude)
    if agent is None:
        return None
    return ticket_assign(ticket=ticket, actor=actor, team=team, assignee=agent,
                         reason=f"auto:{team.assignment_strategy}")


@transaction.atomic
def team_set_assignment(*, team: Team, strategy: str, reassign_when_offline: bool, actor: Actor | None = None) -> Team:
    if strategy not in AssignmentStrategy.values:
        raise ValidationError(f"Unknown assignment strategy “{strategy}”.", code="unknown_strategy")
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = {"assignment_strategy": team.assignment_strategy, "reassign_when_offline": team.reassign_when_offline}
    team.assignment_strategy = strategy
    team.reassign_when_offline = reassign_when_offline
    team.save(update_fields=["assignment_strategy", "reassign_when_offline", "updated_at"])
    audit_settings_change(actor=actor or Actor.system(), target=team, operation="updated", before=before,
                          after={"assignment_strategy": strategy, "reassign_when_offline": reassign_when_offline})
    return team


def agent_set_availability(*, agent: User, availability: str, actor: Actor) -> int:
    """Set an agent's availability; going offline hands their tickets on in teams that ask for it.

    Returns how many tickets were reassigned. Each ticket moves in its own transaction, so one failure does not
    keep the agent "online"."""
    if availability not in Availability.values:
        raise ValidationError(f"Unknown availability “{availability}”.", code="unknown_availability")
    if not agent.is_staff_member:
        raise ValidationError("Only agents have an availability.", code="not_an_agent")
    user_update_profile(user=agent, availability=availability)
    if availability != Availability.OFFLINE:
        return 0
    moved = 0
    teams = agent.teams.filter(reassign_when_offline=True).exclude(assignment_strategy=AssignmentStrategy.MANUAL)
    for team in teams:
        ticket_ids = list(Ticket.objects.filter(assignee=agent, team=team, status__in=UNSOLVED_STATUSES)
                          .values_list("pk", flat=True))
        for ticket_id in ticket_ids:
            with transaction.atomic():
                ticket = Ticket(pk=ticket_id)
                result = ticket_auto_assign(ticket=ticket, actor=Actor.automation(), reassign=True,
                                            exclude={agent.pk})
                if result is None:  # nobody free: back to the team's unassigned queue
                    ticket_assign(ticket=ticket, actor=Actor.automation(), team=team, assignee=None,
                                  reason="agent_offline")
                moved += 1
    return moved

"""Writes from the console's pages: saved views, bulk actions on selected tickets, the notifications bell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Team, TeamMembership, User
from atende.accounts.selectors import team_ids_for_user
from atende.console.models import DEFAULT_COLUMNS, ListColumn, ListSort, Notification, NotificationKind, SavedView
from atende.console.selectors import can_edit_saved_view
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationError
from atende.tickets.choices import TicketPriority, TicketStatus
from atende.tickets.filters import TicketFilters
from atende.tickets.models import Ticket, TicketFollower
from atende.tickets.selectors import access_ticket
from atende.tickets.services import (
    ticket_assign,
    ticket_mark_spam,
    ticket_merge,
    ticket_set_tags,
    ticket_transition,
    ticket_update,
)

MAX_BULK = 500


# -- saved views ---------------------------------------------------------------------------------------------

def _check_view_fields(*, user: User, name: str, team: Team | None, columns: list[str], sort: str) -> str:
    if not user.is_agent:
        raise PermissionDenied("Only agents and admins manage saved views.")
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError("A view needs a name.", code="name_required")
    if team is not None and not user.is_admin and team.pk not in team_ids_for_user(user):
        raise PermissionDenied("You can only share views with your own teams.")
    unknown = [c for c in columns if c not in ListColumn.values]
    if unknown:
        raise ValidationError(f"Unknown columns: {', '.join(unknown)}.", code="unknown_column")
    if sort not in ListSort.values:
        raise ValidationError(f"Unknown sort {sort!r}.", code="unknown_sort")
    return name


@transaction.atomic
def saved_view_create(*, user: User, name: str, filters: TicketFilters, team: Team | None = None,
                      columns: list[str] | None = None, sort: str = ListSort.UPDATED_DESC) -> SavedView:
    columns = list(columns or DEFAULT_COLUMNS)
    name = _check_view_fields(user=user, name=name, team=team, columns=columns, sort=sort)
    view = SavedView(name=name, owner=user, team=team, filters=filters.to_dict(), columns=columns, sort=sort,
                     position=SavedView.objects.filter(owner=user).count())
    view.full_clean()
    view.save()
    return view


@transaction.atomic
def saved_view_update(*, view: SavedView, user: User, name: str, filters: TicketFilters, team: Team | None,
                      columns: list[str], sort: str) -> SavedView:
    if not can_edit_saved_view(user, view):
        raise NotFound("Saved view not found.")
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    view.name = _check_view_fields(user=user, name=name, team=team, columns=list(columns), sort=sort)
    view.team, view.filters, view.columns, view.sort = team, filters.to_dict(), list(columns), sort
    view.full_clean()
    view.save(update_fields=["name", "team", "filters", "columns", "sort", "updated_at"])
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, user: User) -> None:
    if not can_edit_saved_view(user, view):
        raise NotFound("Saved view not found.")
    view.delete()


# -- bulk actions --------------------------------------------------------------------------------------------

class BulkAction(TextChoices):
    ASSIGN = "assign", _("Assign to")
    STATUS = "status", _("Change status")
    PRIORITY = "priority", _("Change priority")
    TEAM = "team", _("Move to team")
    ADD_TAGS = "add_tags", _("Add tags")
    REMOVE_TAGS = "remove_tags", _("Remove tags")
    MERGE = "merge", _("Merge into ticket")
    SPAM = "spam", _("Mark as spam")


@dataclass
class BulkOutcome:
    ticket_id: int
    number: int | None
    ok: bool
    code: str = ""
    message: str = ""


@dataclass
class BulkReport:
    action: str
    succeeded: list[BulkOutcome] = field(default_factory=list)
    failed: list[BulkOutcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.succeeded) + len(self.failed)


def tickets_bulk_apply(*, user: User, ticket_ids: Iterable[int], action: str, assignee: User | None = None,
                       status: str = "", priority: str = "", team: Team | None = None,
                       tags: Iterable[str] = (), merge_target_number: int | None = None) -> BulkReport:
    """Apply one action to each selected ticket through the ticket services, each ticket in its own transaction
    (so one closed ticket does not undo the rest), and report what succeeded and what failed and why.

    Deliberately not one transaction: a partial result with a precise report is what an agent wants from a bulk
    edit. ``assignee=None`` with ``action=assign`` unassigns; ``team=None`` with ``action=team`` clears the team.
    """
    if not user.is_agent:
        raise PermissionDenied("Only agents can change tickets in bulk.")
    if action not in BulkAction.values:
        raise ValidationError(f"Unknown bulk action {action!r}.", code="unknown_action")
    ids = list(dict.fromkeys(int(pk) for pk in ticket_ids))
    if not ids:
        raise ValidationError("Select at least one ticket.", code="nothing_selected")
    if len(ids) > MAX_BULK:
        raise ValidationError(f"Select at most {MAX_BULK} tickets at a time.", code="too_many")
    actor = Actor.for_user(user)
    tags = [t for t in (tags or []) if t.strip()]
    target = _validate_params(user=user, action=action, status=status, priority=priority, tags=tags,
                              merge_target_number=merge_target_number)
    report = BulkReport(action=action)
    for pk in ids:
        if target is not None and pk == target.pk:
            continue  # merging a ticket into itself: the target is simply kept
        try:
            ticket = access_ticket(user=user, ticket_id=pk)
        except NotFound as exc:
            report.failed.append(BulkOutcome(pk, None, ok=False, code=exc.code, message=exc.message))
            continue
        try:
            _apply_one(ticket=ticket, actor=actor, action=action, assignee=assignee, status=status,
                       priority=priority, team=team, tags=tags, target=target)
        except DomainError as exc:
            report.failed.append(BulkOutcome(pk, ticket.number, ok=False, code=exc.code, message=exc.message))
        else:
            report.succeeded.append(BulkOutcome(pk, ticket.number, ok=True))
    return report


def _validate_params(*, user: User, action: str, status: str, priority: str, tags: list[str],
                     merge_target_number: int | None) -> Ticket | None:
    if action == BulkAction.STATUS and status not in TicketStatus.values:
        raise ValidationError("Choose a status.", code="status_required")
    if action == BulkAction.PRIORITY and priority not in TicketPriority.values:
        raise ValidationError("Choose a priority.", code="priority_required")
    if action in (BulkAction.ADD_TAGS, BulkAction.REMOVE_TAGS) and not tags:
        raise ValidationError("Enter at least one tag.", code="tags_required")
    if action == BulkAction.MERGE:
        if not merge_target_number:
            raise ValidationError("Enter the number of the ticket to merge into.", code="merge_target_required")
        try:
            return access_ticket(user=user, number=merge_target_number)
        except NotFound:
            raise ValidationError(f"Ticket #{merge_target_number} was not found.", code="merge_target_not_found")
    return None


def _apply_one(*, ticket: Ticket, actor: Actor, action: str, assignee: User | None, status: str, priority: str,
               team: Team | None, tags: list[str], target: Ticket | None) -> None:
    if action == BulkAction.ASSIGN:
        ticket_assign(ticket=ticket, actor=actor, team=ticket.team, assignee=assignee, reason="bulk")
    elif action == BulkAction.TEAM:
        keep = ticket.assignee
        if keep is not None and team is not None and not team.members.filter(pk=keep.pk).exists():
            keep = None  # the assignee is not in the new team: the ticket goes back to the team's queue
        ticket_assign(ticket=ticket, actor=actor, team=team, assignee=keep, reason="bulk")
    elif action == BulkAction.STATUS:
        if ticket.status != status:
            ticket_transition(ticket=ticket, to=status, actor=actor, reason="bulk")
    elif action == BulkAction.PRIORITY:
        ticket_update(ticket=ticket, actor=actor, changes={"priority": priority}, reason="bulk")
    elif action == BulkAction.ADD_TAGS:
        ticket_set_tags(ticket=ticket, actor=actor, add=tags)
    elif action == BulkAction.REMOVE_TAGS:
        ticket_set_tags(ticket=ticket, actor=actor, remove=tags)
    elif action == BulkAction.MERGE:
        ticket_merge(source=ticket, target=target, actor=actor)
    elif action == BulkAction.SPAM:
        ticket_mark_spam(ticket=ticket, actor=actor)


# -- notifications (the bell) --------------------------------------------------------------------------------

# Events older than this when the subscriber first sees them (a worker down for days, or the subscriber added to
# a desk with history) make no bell line: a notification about last week's mention is noise, not news.
NOTIFY_MAX_AGE = dt.timedelta(days=3)
SLA_KINDS = {"SLA_WARNING": NotificationKind.SLA_WARNING, "SLA_BREACHED": NotificationKind.SLA_BREACHED}


@dataclass(frozen=True)
class _TicketRef:
    team_id: int | None
    assignee_id: int | None


def _wanted(event: dict, ticket: _TicketRef, team_members: dict[int, list[int]]) -> list[tuple[int, str]]:
    """(agent id, kind) for one committed event: mentioned agents, a new assignee, the assignee of a ticket the
    customer replied on, the assignee (or, unassigned, the team) of a ticket close to or past an SLA target.
    Never the agent who caused the event."""
    data, kind = event.get("data") or {}, event.get("type")
    if kind == "NOTE_ADDED":
        wanted = [(int(pk), NotificationKind.MENTION) for pk in data.get("mentions") or []]
    elif kind == "ASSIGNEE_CHANGED":
        new = data.get("new")
        new = new.get("id") if isinstance(new, dict) else new
        wanted = [(int(new), NotificationKind.ASSIGNED)] if new else []
    elif kind == "REPLY_ADDED" and event.get("actor_kind") == "customer" and ticket.assignee_id:
        wanted = [(ticket.assignee_id, NotificationKind.CUSTOMER_REPLIED)]
    elif kind in SLA_KINDS:
        people = [ticket.assignee_id] if ticket.assignee_id else team_members.get(ticket.team_id, [])
        wanted = [(pk, SLA_KINDS[kind]) for pk in people]
    else:
        wanted = []
    return [(pk, k) for pk, k in wanted if pk != event.get("actor_user_id")]


def _sees(user: User, ticket_id: int, ticket: _TicketRef, teams: dict[int, set[int]],
          follows: set[tuple[int, int]]) -> bool:
    """``ticket_visibility_filter`` for staff, on rows already loaded (a mention never leaks a ticket)."""
    if user.is_admin or not (user.is_collaborator or user.restrict_to_teams):
        return True
    return (ticket.team_id in teams.get(user.pk, set()) or ticket.assignee_id == user.pk
            or (ticket_id, user.pk) in follows)


@transaction.atomic
def notifications_record_for_events(*, events: list[dict], now: dt.datetime | None = None) -> set[int]:
    """The bell's rows for a batch of committed ticket events (the events bus's plain payloads), set-wise: a
    fixed number of queries whatever the batch size. Idempotent: one row per (agent, event, kind), so a batch
    handed over again adds nothing. Only for active staff who may see the ticket. Returns the recipients' ids."""
    now = now or timezone.now()
    oldest = now - NOTIFY_MAX_AGE
    events = [e for e in events if e.get("ticket_id") and e.get("event_id")
              and dt.datetime.fromisoformat(e["created_at"]) >= oldest]
    if not events:
        return set()
    tickets = {pk: _TicketRef(team, assignee) for pk, team, assignee in Ticket.objects.filter(
        pk__in={e["ticket_id"] for e in events}).values_list("pk", "team_id", "assignee_id")}
    sla_teams = {tickets[e["ticket_id"]].team_id for e in events if e["type"] in SLA_KINDS
                 and e["ticket_id"] in tickets and not tickets[e["ticket_id"]].assignee_id} - {None}
    team_members: dict[int, list[int]] = {}
    for team_id, user_id in TeamMembership.objects.filter(team_id__in=sla_teams).values_list("team_id", "user_id"):
        team_members.setdefault(team_id, []).append(user_id)
    wanted = [(e, pk, kind) for e in events if e["ticket_id"] in tickets
              for pk, kind in _wanted(e, tickets[e["ticket_id"]], team_members)]
    if not wanted:
        return set()
    users = {u.pk: u for u in User.objects.filter(pk__in={pk for _, pk, _ in wanted}, is_active=True,
                                                   role__in=["admin", "agent", "collaborator"])}
    restricted = [pk for pk, u in users.items() if not u.is_admin and (u.is_collaborator or u.restrict_to_teams)]
    teams: dict[int, set[int]] = {}
    follows: set[tuple[int, int]] = set()
    if restricted:
        for user_id, team_id in TeamMembership.objects.filter(user_id__in=restricted).values_list("user_id",
                                                                                                    "team_id"):
            teams.setdefault(user_id, set()).add(team_id)
        follows = set(TicketFollower.objects.filter(user_id__in=restricted, ticket_id__in=tickets)
                      .values_list("ticket_id", "user_id"))
    rows = [Notification(recipient_id=pk, kind=kind, ticket_id=e["ticket_id"], event_id=e["event_id"],
                         actor_id=e.get("actor_user_id"), created_at=now)
            for e, pk, kind in wanted
            if pk in users and _sees(users[pk], e["ticket_id"], tickets[e["ticket_id"]], teams, follows)]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return {row.recipient_id for row in rows}


@transaction.atomic
def notifications_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of ``user``'s notifications (or all of them) read; returns how many changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())

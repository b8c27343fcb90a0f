"""Reads for the console's lists: built-in queues, saved views, their tickets (keyset pages) and live counts.

Every ticket list starts from ``tickets.selectors.ticket_list_for_user``, so an agent restricted to their teams
only ever sees (and counts) those teams' tickets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import User
from atende.accounts.selectors import team_ids_for_user
from atende.console.models import DEFAULT_COLUMNS, ListColumn, ListSort, Notification, SavedView
from atende.core.exceptions import NotFound, ValidationError
from atende.core.pagination import Page, keyset_page
from atende.core.prepared import padded, server_bound
from atende.tickets.choices import MessageKind
from atende.tickets.filters import TicketFilters, apply_ticket_filters, ticket_filter_branches
from atende.tickets.list_items import ticket_list_items
from atende.tickets.models import Message, PhoneCallerId, Ticket
from atende.tickets.selectors import ticket_list_for_user, ticket_visibility_filter

COUNT_CAP = 1000  # counts above this show as "1000+": bounded work however large the queue
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 50
# Sorting by a column that may be empty would skip those rows between pages (keyset cursors compare values),
# so those sorts only list tickets that have the value.
_NULLABLE_SORTS = {"sla_due_at": "sla_due_at", "-solved_at": "solved_at"}


@dataclass(frozen=True)
class BuiltinQueue:
    key: str
    name: str
    filters: dict
    sort: str = ListSort.UPDATED_DESC
    columns: tuple[str, ...] = tuple(DEFAULT_COLUMNS)


BUILTIN_QUEUES: tuple[BuiltinQueue, ...] = (
    BuiltinQueue("mine", _("My open tickets"), {"assignee": ["me"], "status": ["active"]}),
    BuiltinQueue("unassigned", _("Unassigned in my teams"),
                 {"assignee": ["none"], "team": ["mine"], "status": ["active"]}, sort=ListSort.CREATED_ASC),
    BuiltinQueue("all_open", _("All open"), {"status": ["active"]}),
    BuiltinQueue("pending", _("Waiting on customer"), {"status": ["pending"]}),
    BuiltinQueue("on_hold", _("On hold"), {"status": ["on_hold"]}),
    BuiltinQueue("solved", _("Recently solved"), {"status": ["resolved"], "solved_within_days": 7},
                 sort=ListSort.SOLVED_DESC),
    # Overdue or due within the next four hours, most urgent first.
    BuiltinQueue("breaching", _("Breaching soon"), {"status": ["active"], "sla_due_within_hours": 4},
                 sort=ListSort.SLA_DUE),
)
BUILTIN_BY_KEY = {q.key: q for q in BUILTIN_QUEUES}
DEFAULT_QUEUE = "mine"


@dataclass
class Queue:
    """A list the console shows: a built-in queue or a saved view, resolved for one user."""

    key: str  # builtin key, or "view-<id>"
    name: str
    filters: TicketFilters
    sort: str
    columns: list[str]
    saved_view: SavedView | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_saved_view(self) -> bool:
        return self.saved_view is not None


def _builtin_queue(builtin: BuiltinQueue, *, user: User) -> Queue:
    data = dict(builtin.filters)
    if builtin.key == "unassigned" and not team_ids_for_user(user):
        data.pop("team")  # someone in no team (often an admin) sees every unassigned ticket
    return Queue(key=builtin.key, name=str(builtin.name), filters=TicketFilters.from_dict(data), sort=builtin.sort,
                 columns=list(builtin.columns))


def _saved_queue(view: SavedView) -> Queue:
    try:
        filters = TicketFilters.from_dict(view.filters)
        notes = []
    except ValidationError as exc:  # a view saved before a filter value disappeared still opens, unfiltered
        filters, notes = TicketFilters(), [exc.message]
    columns = [c for c in view.columns if c in ListColumn.values] or list(DEFAULT_COLUMNS)
    sort = view.sort if view.sort in ListSort.values else ListSort.UPDATED_DESC
    return Queue(key=f"view-{view.pk}", name=view.name, filters=filters, sort=sort, columns=columns,
                 saved_view=view, notes=notes)


def saved_view_list_for_user(*, user: User) -> QuerySet[SavedView]:
    """The user's personal views and the views shared with their teams."""
    if not user.is_authenticated or not user.is_staff_member:
        return SavedView.objects.none()
    return (SavedView.objects.filter(Q(owner_id=user.pk) | Q(team_id__in=team_ids_for_user(user)))
            .select_related("team", "owner").order_by("position", "name", "id"))


def access_saved_view(*, user: User, view_id: int, for_edit: bool = False) -> SavedView:
    """A view the user may open (``for_edit``: may change): NotFound otherwise, the same for missing views."""
    try:
        view = saved_view_list_for_user(user=user).get(pk=int(view_id))
    except (SavedView.DoesNotExist, TypeError, ValueError):
        raise NotFound("Saved view not found.")
    if for_edit and not can_edit_saved_view(user, view):
        raise NotFound("Saved view not found.")
    return view


def can_edit_saved_view(user: User, view: SavedView) -> bool:
    """Its owner; for a shared view also an admin or any agent of that team."""
    if not user.is_agent:
        return False
    if view.owner_id == user.pk or (view.team_id and user.is_admin):
        return True
    return bool(view.team_id) and view.team_id in team_ids_for_user(user)


def queue_list_for_user(*, user: User) -> list[Queue]:
    queues = [_builtin_queue(b, user=user) for b in BUILTIN_QUEUES]
    return queues + [_saved_queue(v) for v in saved_view_list_for_user(user=user)]


def queue_get(*, user: User, key: str | None = None, view_id: int | None = None) -> Queue:
    if view_id is not None:
        return _saved_queue(access_saved_view(user=user, view_id=view_id))
    builtin = BUILTIN_BY_KEY.get(key or DEFAULT_QUEUE)
    if builtin is None:
        raise NotFound("Queue not found.")
    return _builtin_queue(builtin, user=user)


def queue_queryset(*, user: User, queue: Queue, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """The queue's tickets (``filters``: the queue's own, less what ``ticket_filter_branches`` split off)."""
    qs = apply_ticket_filters(ticket_list_for_user(user=user), queue.filters if filters is None else filters,
                              user=user)
    nullable = _NULLABLE_SORTS.get(queue.sort)
    if nullable:
        qs = qs.filter(**{f"{nullable}__isnull": False})
    return qs


def queue_tickets_page(*, user: User, queue: Queue, cursor: str | None = None,
                       size: int = DEFAULT_PAGE_SIZE) -> Page:
    """One keyset page of the queue's tickets (``tickets.list_items.TicketListItem``: plain values, no model
    instances) with everything the columns show, in a constant number of queries: the page's keys (one per
    status and team/assignee, see ``ticket_filter_branches``), its rows by id, and its tags when shown.

    On PostgreSQL these are prepared statements: the keys' text depends on the queue's filters, the sort and
    whether there is a cursor (``core.prepared.server_bound``: the text is the shape); the rows are read by id
    with the user's visibility only (``ticket_list_items``), one shape per padded page size. A ticket changed
    between the two reads shows as it is now."""
    if size not in PAGE_SIZES:
        size = DEFAULT_PAGE_SIZE
    branches, rest = ticket_filter_branches(queue.filters, user=user, order=queue.sort)
    with_tags = ListColumn.TAGS in queue.columns
    with server_bound():
        return keyset_page(queue_queryset(user=user, queue=queue, filters=rest), order=queue.sort, cursor=cursor,
                           size=size, branches=branches,
                           load=lambda _qs, ids: ticket_list_items(user, ids, with_tags=with_tags))


PREVIEW_CHARS = 160


def last_message_previews(*, ticket_ids: list[int]) -> dict[int, str]:
    """The start of each ticket's latest reply or note, for the list's hover preview: one query for the whole
    page (a correlated subquery per ticket on the ``message_ticket_created`` index), never one per row."""
    if not ticket_ids:
        return {}
    latest = (Message.objects.filter(ticket_id=OuterRef("pk"), kind__in=[MessageKind.REPLY, MessageKind.NOTE])
              .order_by("-created_at", "-id").values("body_text")[:1])
    rows = (Ticket.objects.filter(pk__in=padded(ticket_ids)).order_by()
            .annotate(preview=Substr(Subquery(latest), 1, PREVIEW_CHARS)).values_list("pk", "preview"))
    with server_bound():
        return {pk: " ".join(text.split()) for pk, text in rows if text}


def queue_counts(*, user: User, queues: list[Queue], cap: int = COUNT_CAP) -> dict[str, int]:
    """How many tickets each queue holds, counted up to ``cap`` (one bounded query per queue). Not prepared on
    PostgreSQL: planning one took ~0.1 ms against 0.5–5 ms of counting, and a generic plan counted several
    times slower than the plan made for the values."""
    return {q.key: queue_queryset(user=user, queue=q).order_by()[:cap].count() for q in queues}


COUNTS_CACHE_SECONDS = 10


def _last_ticket_change() -> str:
    """The newest ticket change (one row off the ``ticket_updated`` index): every ticket service bumps
    ``updated_at``, so any change — the agent's own included — gives a new value."""
    last = Ticket.objects.order_by("-updated_at", "-id").values_list("updated_at", "id").first()
    return f"{last[0].isoformat()}/{last[1]}" if last else "-"


def queue_counts_cached(*, user: User, queues: list[Queue]) -> dict[str, int]:
    """``queue_counts`` for the sidebar, which every console page loads and refreshes on every ticket change.

    Cached per user and per last ticket change, so a refresh after a change counts afresh while page loads in
    between reuse the counts; the short lifetime bounds what that key cannot see (queues that depend on the
    clock, such as "Breaching soon", and deleted tickets).
    """
    definition = repr([(q.key, q.filters, q.sort) for q in queues]) + repr(sorted(team_ids_for_user(user)))
    digest = hashlib.sha256(f"{user.pk}|{_last_ticket_change()}|{definition}".encode()).hexdigest()
    key = f"console:queue-counts:{digest}"
    counts = cache.get(key)
    if counts is None:
        counts = queue_counts(user=user, queues=queues)
        cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


INTERACTIONS = 20


def _visible_messages(*, user: User) -> QuerySet[Message]:
    """Messages on tickets ``user`` may see; no ticket subquery at all for someone who sees every ticket."""
    messages = Message.objects.select_related("ticket", "author")
    restriction = ticket_visibility_filter(user)
    return messages if restriction is None else messages.filter(ticket__in=Ticket.objects.filter(restriction))


def customer_interactions(*, user: User, customer: User, limit: int = INTERACTIONS) -> list[Message]:
    """The customer's recent messages and the phone calls logged for them, newest first.

    Two queries, each newest-first on its own index (``message_author_created``, ``message_phone_caller``),
    merged here: one ``author OR caller`` query could use neither index and walked every message.
    """
    messages = _visible_messages(user=user)
    newest = ("-created_at", "-id")
    authored = list(messages.filter(author=customer).order_by(*newest)[:limit])
    calls = list(messages.alias(caller_id=PhoneCallerId()).filter(caller_id=str(customer.pk))
                 .order_by(*newest)[:limit])
    merged = {m.pk: m for m in authored + calls}.values()
    return sorted(merged, key=lambda m: (m.created_at, m.pk), reverse=True)[:limit]


def organization_interactions(*, user: User, organization, limit: int = INTERACTIONS) -> list[Message]:
    """Recent non-system messages on the organisation's tickets, newest first."""
    return list(_visible_messages(user=user).filter(ticket__organization=organization).exclude(kind="system")
                .order_by("-created_at", "-id")[:limit])


# -- notifications -----------------------------------------------------------------------------------------

NOTIFICATIONS_SHOWN = 50


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list_for_user(*, user: User) -> list[Notification]:
    """The latest notifications, unread and read, with what the bell shows about each (one query)."""
    return list(Notification.objects.filter(recipient=user).select_related("ticket", "actor")
                .only("kind", "created_at", "read_at", "ticket__number", "ticket__subject", "actor__name",
                      "actor__email")[:NOTIFICATIONS_SHOWN])


def mention_candidates(*, user: User, query: str, limit: int = 8) -> list[dict[str, str]]:
    """Agents whose name or email starts with ``query``, for the @-mention autocomplete of notes."""
    query = (query or "").strip()
    agents = User.objects.filter(role__in=["admin", "agent", "collaborator"], is_active=True)
    if query:
        agents = agents.filter(Q(name__istartswith=query) | Q(email__istartswith=query) |
                               Q(name__icontains=f" {query}"))
    return [{"email": u.email, "name": u.display_name}
            for u in agents.order_by("name", "email").only("name", "email")[:limit]]

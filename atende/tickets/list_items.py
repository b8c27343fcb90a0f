"""Ticket list rows as plain values: what a console queue page shows, without building model instances.

A page of 50 tickets loaded with ``select_related`` built about 350 model instances (the ticket, its requester,
assignee, team, organisation, category and its parent): 7 ms on SQLite for what a ``values_list`` of the same
columns reads in 1.5 ms. ``ticket_list_items`` reads those columns and wraps them in small objects that answer
the attributes list rendering uses (``item.requester.display_name``, ``item.team.name``, ``str(item.category)``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import QuerySet

from atende.accounts.models import User
from atende.core.prepared import padded, prepared_rows, server_bound
from atende.tickets.models import Ticket, TicketTag
from atende.tickets.selectors import ticket_visibility_filter


@dataclass(slots=True, frozen=True)
class ListPerson:
    pk: int
    name: str
    email: str

    @property
    def display_name(self) -> str:  # as ``User.display_name``
        return self.name or self.email


@dataclass(slots=True, frozen=True)
class ListNamed:
    pk: int
    name: str


@dataclass(slots=True, frozen=True)
class ListCategory:
    pk: int
    name: str
    parent_name: str | None

    def __str__(self) -> str:  # as ``Category.__str__`` (categories are two levels deep)
        return f"{self.parent_name} › {self.name}" if self.parent_name is not None else self.name


@dataclass(slots=True)
class TicketListItem:
    pk: int
    number: int
    subject: str
    status: str
    priority: str
    type: str
    channel: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    solved_at: datetime.datetime | None
    sla_due_at: datetime.datetime | None
    version: int
    requester: ListPerson
    assignee: ListPerson | None
    team: ListNamed | None
    organization: ListNamed | None
    category: ListCategory | None
    tag_names: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.pk


_COLUMNS = (
    "id", "number", "subject", "status", "priority", "type", "channel", "created_at", "updated_at", "solved_at",
    "sla_due_at", "version", "requester_id", "requester__name", "requester__email", "assignee_id", "assignee__name",
    "assignee__email", "team_id", "team__name", "organization_id", "organization__name", "category_id",
    "category__name", "category__parent__name",
)


def _rows(*ids: int) -> QuerySet:
    return Ticket.objects.filter(pk__in=ids).order_by().values_list(*_COLUMNS)


def _tags(*ids: int) -> QuerySet:
    return TicketTag.objects.filter(ticket_id__in=ids).order_by("tag__name").values_list("ticket_id", "tag__name")


def ticket_list_items(user: User, ids: list[int], *, with_tags: bool = False) -> dict[int, TicketListItem]:
    """The tickets among ``ids`` that ``user`` may see (``ticket_visibility_filter``: nothing else is read), by id.

    The read has one shape whatever list the ids come from (their filters were applied when the ids were
    chosen), with the id list padded (``core.prepared.padded``): for someone who sees every ticket its SQL is
    compiled once per connection and page size (``prepared_rows``); otherwise the ORM builds it with the user's
    restriction. On PostgreSQL both are prepared statements: planning the six joins took ~1 ms, running them
    ~0.3 ms."""
    wanted = padded(ids)
    restriction = ticket_visibility_filter(user)
    if restriction is None:
        rows = prepared_rows(("ticket_list_items", len(wanted)), _rows, wanted)
    else:
        with server_bound():
            rows = list(Ticket.objects.filter(restriction).filter(pk__in=wanted).order_by().values_list(*_COLUMNS))
    items = {}
    for (pk, number, subject, status, priority, type_, channel, created, updated, solved, sla_due, version,
         requester_id, requester_name, requester_email, assignee_id, assignee_name, assignee_email, team_id,
         team_name, org_id, org_name, category_id, category_name, parent_name) in rows:
        items[pk] = TicketListItem(
            pk=pk, number=number, subject=subject, status=status, priority=priority, type=type_, channel=channel,
            created_at=created, updated_at=updated, solved_at=solved, sla_due_at=sla_due, version=version,
            requester=ListPerson(requester_id, requester_name, requester_email),
            assignee=ListPerson(assignee_id, assignee_name, assignee_email) if assignee_id else None,
            team=ListNamed(team_id, team_name) if team_id else None,
            organization=ListNamed(org_id, org_name) if org_id else None,
            category=ListCategory(category_id, category_name, parent_name) if category_id else None)
    if with_tags and items:
        found = padded(list(items))
        for ticket_id, name in prepared_rows(("ticket_list_tags", len(found)), _tags, found):
            items[ticket_id].tag_names.append(name)
    return items

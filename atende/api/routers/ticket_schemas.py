"""Ticket input and output schemas, and how a ticket becomes JSON for a given reader."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from atende.api.listing import only_fields
from atende.api.schemas import InputSchema, OutSchema, Ref, UserRef, ref, user_ref
from atende.tickets.models import Ticket
from atende.tickets.selectors import customer_visible_field_keys

TicketOrder = Literal["-updated_at", "updated_at", "-created_at", "created_at", "-id", "id"]
TICKET_EXPANDS = ("requester", "assignee", "team", "organization", "category", "problem", "merged_into",
                  "follow_up_of")


class TicketOut(OutSchema):
    """A ticket. ``id`` is always present; ``fields=`` restricts the rest; ``expand=`` embeds related objects."""

    id: int
    number: int | None = None
    subject: str = ""
    status: str = ""
    status_category: str = ""
    type: str = ""
    channel: str = ""
    priority: str = ""
    urgency: str = ""
    impact: str = ""
    requester_id: int | None = None
    organization_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    category_id: int | None = None
    tags: list[str] = []
    custom_fields: dict[str, Any] = {}
    language: str = ""
    external_id: str = ""
    is_spam: bool = False
    problem_id: int | None = None
    merged_into_id: int | None = None
    follow_up_of_id: int | None = None
    reopen_count: int = 0
    version: int = 1
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    first_response_at: datetime.datetime | None = None
    solved_at: datetime.datetime | None = None
    closed_at: datetime.datetime | None = None
    last_customer_reply_at: datetime.datetime | None = None
    last_agent_reply_at: datetime.datetime | None = None
    sla_due_at: datetime.datetime | None = None
    resolution_summary: str = ""
    search_snippet: str | None = Field(None, description="With q: an HTML excerpt with <mark>ed matches.")
    requester: UserRef | None = None
    assignee: UserRef | None = None
    team: Ref | None = None
    organization: Ref | None = None
    category: Ref | None = None
    problem: Ref | None = None
    merged_into: Ref | None = None
    follow_up_of: Ref | None = None


TICKET_FIELDS = tuple(name for name in TicketOut.model_fields if name not in (*TICKET_EXPANDS, "search_snippet"))


class TicketPageOut(Schema):
    items: list[TicketOut]
    next_cursor: str | None
    has_next: bool


class TicketCreateIn(InputSchema):
    subject: str = Field(..., max_length=255)
    body: str = Field("", description="The first message, as plain text.")
    body_html: str = Field("", description="The first message as HTML (sanitised); used when body is empty.")
    requester_id: int | None = Field(None, description="Agents: the customer the ticket is for.")
    requester_email: str | None = Field(None, max_length=254,
                                        description="Agents: the customer's address (created if new).")
    requester_name: str = Field("", max_length=200)
    channel: Literal["api", "messaging"] = "api"
    type: str | None = None
    category_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    urgency: str | None = None
    impact: str | None = None
    priority: str | None = None
    status: str | None = None
    tags: list[str] = []
    custom_fields: dict[str, Any] = {}
    follower_ids: list[int] = []
    language: str = Field("", max_length=10)
    external_id: str = Field("", max_length=200, description="Your system's id, for threading and lookups.")
    message_external_id: str = Field("", max_length=998)


class TicketUpdateIn(InputSchema):
    """Only the fields sent are changed. ``version`` (or ``If-Match``) refuses the change if the ticket moved on."""

    subject: str | None = Field(None, max_length=255)
    type: str | None = None
    category_id: int | None = None
    urgency: str | None = None
    impact: str | None = None
    priority: str | None = None
    custom_fields: dict[str, Any] | None = None
    language: str | None = Field(None, max_length=10)
    team_id: int | None = None
    assignee_id: int | None = None
    requester_id: int | None = None
    tags: list[str] | None = None
    follower_ids: list[int] | None = None
    status: str | None = None
    resolution_summary: str | None = None
    reason: str = ""
    version: int | None = None


class TransitionIn(InputSchema):
    status: str
    reason: str = ""
    resolution_summary: str = ""
    version: int | None = None


class TransitionsOut(Schema):
    status: str
    allowed: list[str]


class MergeIn(InputSchema):
    target_id: int = Field(..., description="The ticket this one is merged into.")


class LinkIn(InputSchema):
    target_id: int
    kind: str = "related"


class LinkOut(Schema):
    id: int
    kind: str
    source_id: int
    source_number: int | None
    target_id: int
    target_number: int | None
    created_at: datetime.datetime


class EventOut(Schema):
    id: int
    ticket_id: int
    type: str
    actor_kind: str
    actor: UserRef | None
    data: dict[str, Any]
    source_event_id: int | None
    created_at: datetime.datetime


class EventPageOut(Schema):
    items: list[EventOut]
    next_cursor: str | None
    has_next: bool


def customer_visible_keys(request) -> set[str]:
    if not hasattr(request, "_atende_visible_fields"):
        request._atende_visible_fields = customer_visible_field_keys()
    return request._atende_visible_fields


def ticket_data(ticket: Ticket, *, request, fields: set[str] | None = None, expand: set[str] = frozenset(),
                tags: list[str] | None = None) -> dict[str, Any]:
    user = request.user
    custom = dict(ticket.custom_fields or {})
    if not user.is_staff_member:
        visible = customer_visible_keys(request)
        custom = {k: v for k, v in custom.items() if k in visible}
    if tags is None:
        tags = sorted(t.name for t in ticket.tags.all())
    data: dict[str, Any] = {
        "id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
        "status_category": str(ticket.status_category), "type": ticket.type, "channel": ticket.channel,
        "priority": ticket.priority, "urgency": ticket.urgency, "impact": ticket.impact,
        "requester_id": ticket.requester_id, "organization_id": ticket.organization_id, "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id, "category_id": ticket.category_id, "tags": tags,
        "custom_fields": custom, "language": ticket.language, "external_id": ticket.external_id,
        "is_spam": ticket.is_spam, "problem_id": ticket.problem_id, "merged_into_id": ticket.merged_into_id,
        "follow_up_of_id": ticket.follow_up_of_id, "reopen_count": ticket.reopen_count, "version": ticket.version,
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at, "solved_at": ticket.solved_at, "closed_at": ticket.closed_at,
        "last_customer_reply_at": ticket.last_customer_reply_at, "last_agent_reply_at": ticket.last_agent_reply_at,
        "sla_due_at": ticket.sla_due_at if user.is_staff_member else None,
        "resolution_summary": ticket.resolution_summary,
    }
    data = only_fields(data, fields)
    for name in expand:
        related = getattr(ticket, name)
        data[name] = user_ref(related) if name in ("requester", "assignee") else _ticket_or_ref(related)
    return data


def _ticket_or_ref(obj) -> dict[str, Any] | None:
    if isinstance(obj, Ticket):
        return {"id": obj.pk, "name": f"#{obj.number} {obj.subject}"}
    return ref(obj)


def ticket_json(ticket: Ticket, *, request, tags: list[str] | None = None) -> dict[str, Any]:
    """The full ticket as stored JSON (for idempotent replays); ``tags`` when the caller already knows them."""
    return TicketOut.model_validate(ticket_data(ticket, request=request, tags=tags)).model_dump(
        mode="json", exclude_unset=True)

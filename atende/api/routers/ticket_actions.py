"""What happens to a ticket besides field changes: status transitions, merging, links and its event log."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.api.listing import page_of
from atende.api.routers.ticket_schemas import (
    EventOut,
    EventPageOut,
    LinkIn,
    LinkOut,
    MergeIn,
    TicketOut,
    TransitionIn,
    TransitionsOut,
    ticket_data,
)
from atende.api.schemas import responses, user_ref
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied
from atende.tickets.models import TicketLink
from atende.tickets.selectors import access_ticket, access_ticket_link, event_list_for_user, ticket_link_list_for_user
from atende.tickets.services import ticket_link, ticket_merge, ticket_transition, ticket_unlink
from atende.tickets.states import TRANSITIONS

router = Router(tags=["tickets"])


@router.get("/tickets/{ticket_id}/transitions", response=responses(TransitionsOut),
            summary="Statuses the ticket can move to")
def transition_options(request: HttpRequest, ticket_id: int):
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    allowed = sorted(str(s) for s in TRANSITIONS.get(ticket.status, ())) if request.user.is_agent else []
    return {"status": ticket.status, "allowed": allowed}


@router.post("/tickets/{ticket_id}/transitions", response=responses(TicketOut), exclude_unset=True,
             summary="Change the status")
def transition_apply(request: HttpRequest, ticket_id: int, payload: TransitionIn):
    """Move the ticket through the lifecycle (new → open → pending/on_hold → solved → closed); 409 when the
    move is not allowed from the current status or ``version`` is stale."""
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    if not request.user.is_agent:
        raise PermissionDenied("Only agents change the status.")
    ticket = ticket_transition(ticket=ticket, to=payload.status, actor=Actor.for_user(request.user),
                               reason=payload.reason, resolution_summary=payload.resolution_summary,
                               expected_version=payload.version)
    return ticket_data(ticket, request=request)


@router.post("/tickets/{ticket_id}/merge", response=responses(TicketOut), exclude_unset=True,
             summary="Merge this ticket into another")
def merge(request: HttpRequest, ticket_id: int, payload: MergeIn):
    """Messages, attachments and people move to the target; this ticket is closed. Returns the target."""
    source = access_ticket(user=request.user, ticket_id=ticket_id)
    target = access_ticket(user=request.user, ticket_id=payload.target_id)
    target = ticket_merge(source=source, target=target, actor=Actor.for_user(request.user))
    return ticket_data(target, request=request)


def _link_data(link: TicketLink) -> dict:
    return {"id": link.pk, "kind": link.kind, "source_id": link.source_id, "source_number": link.source.number,
            "target_id": link.target_id, "target_number": link.target.number, "created_at": link.created_at}


@router.get("/tickets/{ticket_id}/links", response=responses(list[LinkOut]), summary="Linked tickets")
def link_list(request: HttpRequest, ticket_id: int):
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    return [_link_data(link) for link in ticket_link_list_for_user(user=request.user, ticket=ticket)]


@router.post("/tickets/{ticket_id}/links", response=responses(LinkOut, 201), summary="Link another ticket")
def link_add(request: HttpRequest, ticket_id: int, payload: LinkIn):
    """Kinds: related, duplicate, parent (this ticket is the parent), problem (this problem groups the target)."""
    source = access_ticket(user=request.user, ticket_id=ticket_id)
    target = access_ticket(user=request.user, ticket_id=payload.target_id)
    link = ticket_link(source=source, target=target, kind=payload.kind, actor=Actor.for_user(request.user))
    return 201, _link_data(link)


@router.delete("/tickets/{ticket_id}/links/{link_id}", response=responses({204: None}), summary="Remove a link")
def link_remove(request: HttpRequest, ticket_id: int, link_id: int):
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    link = access_ticket_link(user=request.user, ticket=ticket, link_id=link_id)
    ticket_unlink(source=link.source, target=link.target, kind=link.kind, actor=Actor.for_user(request.user))
    return 204, None


class EventQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)
    type: str | None = Field(None, max_length=32, description="Only events of this type, e.g. STATUS_CHANGED.")


@router.get("/tickets/{ticket_id}/events", response=responses(EventPageOut), summary="The ticket's event log")
def event_list(request: HttpRequest, ticket_id: int, query: Query[EventQuery]):
    """The audit log, oldest first, with raw old/new values (agents only; customers get an empty list)."""
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    events = event_list_for_user(user=request.user, ticket=ticket)
    if query.type:
        events = events.filter(type=query.type)
    return page_of(events, order="id", cursor=query.cursor, size=query.size, serialize=lambda e: {
        "id": e.pk, "ticket_id": e.ticket_id, "type": e.type, "actor_kind": e.actor_kind,
        "actor": user_ref(e.actor_user), "data": e.data, "source_event_id": e.source_event_id,
        "created_at": e.created_at,
    })


__all__ = ["router", "EventOut"]

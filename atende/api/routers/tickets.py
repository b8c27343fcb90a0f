"""Tickets: list, search, read, create (JSON or multipart), update."""

from __future__ import annotations

from contextlib import nullcontext

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Header, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_create_for_identity
from atende.accounts.selectors import customer_for_identity
from atende.api.idempotency import idempotent
from atende.api.listing import parse_expand, parse_fields
from atende.api.lookups import agent_for, category_for, people_for, person_for, team_for
from atende.api.routers.ticket_filtering import TicketListQuery, ticket_list_page
from atende.api.routers.ticket_schemas import (
    TICKET_EXPANDS,
    TICKET_FIELDS,
    TicketCreateIn,
    TicketOut,
    TicketPageOut,
    TicketUpdateIn,
    ticket_data,
    ticket_json,
)
from atende.api.schemas import responses
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.tickets.selectors import access_ticket
from atende.tickets.services import IncomingFile, ticket_create, ticket_update
from atende.tickets.services.create import normalize_tags

router = Router(tags=["tickets"])


class TicketReadQuery(Schema):
    fields: str | None = Field(None, description="Comma-separated fields to return (id is always included).")
    expand: str | None = Field(None, description=f"Embed related objects: {', '.join(TICKET_EXPANDS)}.")


@router.get("/tickets", response=responses(TicketPageOut), exclude_unset=True,
            summary="List and search tickets")
def ticket_list(request: HttpRequest, query: Query[TicketListQuery]):
    """Tickets the caller may see, newest activity first, with the console's filters and full-text search."""
    return ticket_list_page(request, query, fields=parse_fields(query.fields, TICKET_FIELDS),
                            expand=parse_expand(query.expand, TICKET_EXPANDS))


def _requester(request: HttpRequest, payload: TicketCreateIn):
    """Customers open tickets for themselves; agents name the customer by id or address. ``None``: the address
    is nobody's yet, and ``_create`` makes the customer in the ticket's own transaction."""
    user = request.user
    if not user.is_staff_member:
        if (payload.requester_id not in (None, user.pk)
                or (payload.requester_email and payload.requester_email.strip().lower() != user.email)):
            raise PermissionDenied("Customers open tickets for themselves only.", code="forbidden_requester")
        return user
    if user.is_collaborator:
        raise PermissionDenied("Collaborators cannot open tickets.")
    if payload.requester_id is not None:
        return person_for(user=user, person_id=payload.requester_id)
    if payload.requester_email:
        return customer_for_identity(kind=IdentityKind.EMAIL, value=payload.requester_email)
    raise ValidationError("Name the requester (requester_id or requester_email).", code="requester_required",
                          details={"requester_id": "required"})


def _create(request: HttpRequest, payload: TicketCreateIn, files: list[IncomingFile]) -> tuple[int, dict]:
    """Everything that is only read (the caller's references, a known requester) is read before the transaction,
    so a write transaction (on SQLite the one write lock) is held only for the writes. A new requester is created
    in the same transaction as the ticket: a ticket that fails leaves no customer behind."""
    user = request.user
    requester = _requester(request, payload)
    category, team = category_for(payload.category_id), team_for(payload.team_id)
    assignee, followers = agent_for(payload.assignee_id), people_for(user=user, ids=payload.follower_ids)
    with transaction.atomic() if requester is None else nullcontext():
        if requester is None:
            # ``_requester`` has just looked the address up and found nobody: no second look-up.
            requester = customer_create_for_identity(kind=IdentityKind.EMAIL, value=payload.requester_email,
                                                     name=payload.requester_name or "")
        ticket = ticket_create(
            actor=Actor.for_user(user), requester=requester, subject=payload.subject,
            body_text=payload.body, body_html=payload.body_html, channel=payload.channel, type=payload.type,
            category=category, team=team, assignee=assignee, urgency=payload.urgency, impact=payload.impact,
            priority=payload.priority, status=payload.status, tags=payload.tags,
            custom_fields=payload.custom_fields, followers=followers, attachments=files, language=payload.language,
            external_id=payload.external_id, message_external_id=payload.message_external_id,
        )
    # A new ticket's tags are the ones sent, as the service normalised them: no query to read them back.
    return 201, ticket_json(ticket, request=request, tags=sorted(normalize_tags(payload.tags)))


@router.post("/tickets", response=responses(TicketOut, 201), exclude_unset=True, summary="Open a ticket")
def ticket_open(request: HttpRequest, payload: TicketCreateIn, response: HttpResponse,
                idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Open a ticket. A customer's token opens it for that customer (the API as a messaging channel).
    Send ``Idempotency-Key`` to make retries safe: a repeated key returns the first result."""
    return idempotent(request, response, idempotency_key, lambda: _create(request, payload, []))


@router.post("/tickets/multipart", response=responses(TicketOut, 201), exclude_unset=True,
             summary="Open a ticket with attachments (multipart)")
def ticket_open_multipart(request: HttpRequest, response: HttpResponse, payload: Form[TicketCreateIn],
                          attachments: File[list[UploadedFile]] = None,
                          idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    files = [IncomingFile.from_upload(upload) for upload in attachments or []]
    return idempotent(request, response, idempotency_key, lambda: _create(request, payload, files))


@router.get("/tickets/{ticket_id}", response=responses(TicketOut), exclude_unset=True, summary="Read a ticket")
def ticket_read(request: HttpRequest, ticket_id: int, query: Query[TicketReadQuery], response: HttpResponse):
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    response["ETag"] = f'"{ticket.version}"'
    return ticket_data(ticket, request=request, fields=parse_fields(query.fields, TICKET_FIELDS),
                       expand=parse_expand(query.expand, TICKET_EXPANDS))


def expected_version(payload_version: int | None, if_match: str | None) -> int | None:
    if payload_version is not None:
        return payload_version
    if if_match:
        raw = if_match.strip().removeprefix("W/").strip('"')
        if raw.isdigit():
            return int(raw)
        raise ValidationError("If-Match must be the ticket version, e.g. \"3\".", code="invalid_if_match")
    return None


def _changes(request: HttpRequest, payload: TicketUpdateIn) -> dict:
    sent = payload.model_dump(exclude_unset=True)
    sent.pop("version", None)
    sent.pop("reason", None)
    changes = {}
    for name, value in sent.items():
        if name == "category_id":
            changes["category"] = category_for(value)
        elif name == "team_id":
            changes["team"] = team_for(value)
        elif name == "assignee_id":
            changes["assignee"] = agent_for(value)
        elif name == "requester_id":
            if value is None:
                raise ValidationError("A ticket always has a requester.", code="requester_required")
            changes["requester"] = person_for(user=request.user, person_id=value)
        elif name == "follower_ids":
            changes["followers"] = people_for(user=request.user, ids=value or [])
        elif name in ("tags",):
            changes[name] = value or []
        elif name in ("subject", "status", "custom_fields", "language", "type", "urgency", "impact") and value is None:
            raise ValidationError(f"{name} cannot be null.", code="null_not_allowed", details={name: "null"})
        else:
            changes[name] = value
    return changes


@router.patch("/tickets/{ticket_id}", response=responses(TicketOut), exclude_unset=True,
              summary="Change a ticket's fields")
def ticket_change(request: HttpRequest, ticket_id: int, payload: TicketUpdateIn, response: HttpResponse,
                  if_match: str | None = Header(None, alias="If-Match")):
    """Agents change fields, assignment, tags, followers and status in one call. A stale ``version`` (or
    ``If-Match``) gets 409 ``stale_version``."""
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    ticket = ticket_update(ticket=ticket, actor=Actor.for_user(request.user), changes=_changes(request, payload),
                           expected_version=expected_version(payload.version, if_match), reason=payload.reason)
    ticket.refresh_from_db()
    response["ETag"] = f'"{ticket.version}"'
    return ticket_data(ticket, request=request)

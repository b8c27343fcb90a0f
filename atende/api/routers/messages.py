"""A ticket's thread: list it, add a public reply or an internal note (JSON or multipart with files)."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Header, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from atende.api.idempotency import idempotent
from atende.api.listing import page_of
from atende.api.schemas import InputSchema, UserRef, responses, user_ref
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.models import Attachment, Message, Ticket
from atende.tickets.selectors import access_ticket, message_list_for_user
from atende.tickets.services import IncomingFile, message_add_note, message_add_reply

router = Router(tags=["messages"])


class AttachmentOut(Schema):
    id: int
    ticket_id: int
    message_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str
    created_at: datetime.datetime


class MessageOut(Schema):
    id: int
    ticket_id: int
    kind: str
    author: UserRef | None
    author_kind: str
    channel: str
    body_text: str
    body_html: str
    external_id: str
    created_at: datetime.datetime
    attachments: list[AttachmentOut]


class MessagePageOut(Schema):
    items: list[MessageOut]
    next_cursor: str | None
    has_next: bool


class MessageIn(InputSchema):
    kind: Literal["reply", "note"] = "reply"
    body: str = Field("", description="Plain text.")
    body_html: str = Field("", description="HTML (sanitised); used when body is empty.")
    channel: Literal["api", "messaging"] = "api"
    external_id: str = Field("", max_length=998, description="Your system's message id (threading).")
    status: str | None = Field(None, description="Agents: the status to set with a reply, e.g. pending.")
    version: int | None = Field(None, description="Refuse the reply if the ticket changed (409).")


def attachment_data(attachment: Attachment) -> dict[str, Any]:
    return {"id": attachment.pk, "ticket_id": attachment.ticket_id, "message_id": attachment.message_id,
            "filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size,
            "sha256": attachment.sha256, "url": f"/api/v1/attachments/{attachment.pk}/content",
            "created_at": attachment.created_at}


def message_data(message: Message) -> dict[str, Any]:
    return {"id": message.pk, "ticket_id": message.ticket_id, "kind": message.kind,
            "author": user_ref(message.author), "author_kind": message.author_kind, "channel": message.channel,
            "body_text": message.body_text, "body_html": message.body_html, "external_id": message.external_id,
            "created_at": message.created_at, "attachments": [attachment_data(a) for a in message.attachments.all()]}


def message_json(message: Message) -> dict[str, Any]:
    return MessageOut.model_validate(message_data(message)).model_dump(mode="json")


class MessageQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)


@router.get("/tickets/{ticket_id}/messages", response=responses(MessagePageOut), summary="The ticket's thread")
def message_list(request: HttpRequest, ticket_id: int, query: Query[MessageQuery]):
    """Oldest first. Customers see public replies only."""
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    messages = message_list_for_user(user=request.user, ticket=ticket)
    return page_of(messages, order="id", cursor=query.cursor, size=query.size, serialize=message_data)


def add_message(request: HttpRequest, ticket: Ticket, payload: MessageIn, files: list[IncomingFile]) -> Message:
    actor = Actor.for_user(request.user)
    if payload.kind == "note":
        if payload.status or payload.external_id:
            raise ValidationError("Notes take neither a status nor an external id.", code="invalid_note")
        return message_add_note(ticket=ticket, actor=actor, body_text=payload.body, body_html=payload.body_html,
                                attachments=files)
    if payload.status and not request.user.is_staff_member:
        raise ValidationError("Customers cannot set the status.", code="forbidden_fields")
    return message_add_reply(ticket=ticket, actor=actor, body_text=payload.body, body_html=payload.body_html,
                             attachments=files, channel=payload.channel, external_id=payload.external_id,
                             set_status=payload.status, expected_version=payload.version)


@router.post("/tickets/{ticket_id}/messages", response=responses(MessageOut, 201), summary="Reply or add a note")
def message_create(request: HttpRequest, ticket_id: int, payload: MessageIn, response: HttpResponse,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """A public reply (agents and the ticket's customers) or an internal note (agents and collaborators).
    A customer's reply to a closed ticket opens a follow-up ticket; the message's ``ticket_id`` says which."""
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    return idempotent(request, response, idempotency_key,
                      lambda: (201, message_json(add_message(request, ticket, payload, []))))


@router.post("/tickets/{ticket_id}/messages/multipart", response=responses(MessageOut, 201),
             summary="Reply or add a note with attachments (multipart)")
def message_create_multipart(request: HttpRequest, ticket_id: int, response: HttpResponse,
                             payload: Form[MessageIn], attachments: File[list[UploadedFile]] = None,
                             idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    files = [IncomingFile.from_upload(upload) for upload in attachments or []]
    return idempotent(request, response, idempotency_key,
                      lambda: (201, message_json(add_message(request, ticket, payload, files))))

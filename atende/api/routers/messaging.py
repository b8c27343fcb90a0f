"""The API as a messaging channel: another system posts its conversation's messages; Atende threads them.

A message carries the conversation's id (``thread_id``) and its own id (``message_id``). The first message of a
thread opens a ticket (channel ``messaging``, ``external_id`` = thread id); later ones become replies on it.
Re-posting a message id already received returns the stored message and creates nothing.

Gateway mode: a staff integration token (an agent's or admin's) posts on behalf of any end customer, named by
``contact`` (a channel handle: ``{"channel": "telegram", "handle": "12345"}``, a phone number, an email…). The
customer is found by that identity, or created, so one token bridges a whole platform.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_find_or_create
from atende.api.routers.messages import MessageOut, message_data
from atende.api.schemas import InputSchema, responses
from atende.api.selectors import messaging_thread_for_user
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied
from atende.tickets.choices import Channel
from atende.tickets.services import message_add_reply, ticket_create

router = Router(tags=["messaging"])


class ContactIn(InputSchema):
    channel: IdentityKind = Field(..., description="email, phone, telegram, whatsapp or chat")
    handle: str = Field(..., min_length=1, max_length=254, description="The customer's id on that channel.")
    name: str = Field("", max_length=200)


class InboundMessageIn(InputSchema):
    thread_id: str = Field(..., min_length=1, max_length=200, description="Your conversation id.")
    message_id: str = Field(..., min_length=1, max_length=900, description="Your message id (deduplication).")
    body: str = ""
    body_html: str = ""
    subject: str = Field("", max_length=255, description="Subject of the ticket opened by a new thread.")
    contact: ContactIn | None = Field(None, description="Gateway mode (staff tokens): the end customer.")


@router.post("/messaging/messages", response=responses({200: MessageOut, 201: MessageOut}),
             summary="Post a message from a conversation in another system")
def inbound_message(request: HttpRequest, payload: InboundMessageIn):
    """A customer's token: the customer is the author. A staff integration token with ``contact``: that contact
    is (gateway mode). 201 when stored, 200 for a repeat."""
    user = request.user
    metadata = {}
    if user.is_staff_member:
        if payload.contact is None:
            raise PermissionDenied("Name the end customer in `contact` (gateway mode), or use a customer's token.",
                                   code="contact_required")
        if not user.is_agent:
            raise PermissionDenied("Gateway mode needs an agent's or administrator's token.")
        user = customer_find_or_create(kind=payload.contact.channel, value=payload.contact.handle,
                                       name=payload.contact.name)
        if not user.is_customer or not user.is_active:
            raise PermissionDenied("This contact is not an active customer.", code="contact_not_customer")
        metadata = {"gateway": {"integration_user_id": request.user.pk, "channel": payload.contact.channel,
                                "handle": payload.contact.handle}}
    elif payload.contact is not None:
        raise PermissionDenied("Only staff integration tokens post on behalf of other customers.")
    external_id = f"{payload.thread_id}:{payload.message_id}"[:998]
    thread = messaging_thread_for_user(user=user, thread_id=payload.thread_id)
    existing = thread.filter(external_id=external_id).first()
    if existing is not None:
        return 200, message_data(existing)
    latest = thread.first()
    ticket = latest.ticket if latest is not None else None
    actor = Actor.for_user(user)
    if ticket is None:
        ticket = ticket_create(actor=actor, requester=user, subject=payload.subject or payload.body[:80] or
                               payload.thread_id, body_text=payload.body, body_html=payload.body_html,
                               channel=Channel.MESSAGING, external_id=payload.thread_id,
                               message_external_id=external_id, message_metadata=metadata)
        return 201, message_data(ticket.first_message)
    message = message_add_reply(ticket=ticket, actor=actor, body_text=payload.body, body_html=payload.body_html,
                                channel=Channel.MESSAGING, external_id=external_id, metadata=metadata)
    return 201, message_data(message)

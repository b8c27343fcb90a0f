"""Messages arriving from a messaging platform become tickets or replies on the contact's open conversation.

The sender is found (or created) through their contact identity (``accounts.customer_find_or_create``), so a
WhatsApp number already known as a customer's phone reaches that customer. Each platform message is stored once
(``ConversationMessage`` is unique per platform id): a re-posted webhook creates nothing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.tasks import enqueue_on_commit
from atende.messaging.choices import DELIVERY_ORDER, DeliveryState, Direction
from atende.messaging.models import ConversationMessage, InboundWebhook
from atende.messaging.services.payloads import Incoming, Receipt
from atende.tickets.choices import Channel, TicketEventType, TicketStatus
from atende.tickets.models import Attachment, Message, Ticket
from atende.tickets.services import IncomingFile, message_add_note, message_add_reply, record_event, ticket_create
from atende.tickets.services.attachments import attachments_store, validate_files

logger = logging.getLogger(__name__)
CLOSED_CONVERSATION = (TicketStatus.SOLVED, TicketStatus.CLOSED)


def webhook_log(*, platform: str, outcome: str, reason: str = "", body: bytes | str = b"", remote_ip: str = "",
                keep_body: bool = True) -> InboundWebhook:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return InboundWebhook.objects.create(platform=platform, outcome=outcome, reason=reason[:500],
                                         body=text[:200_000] if keep_body else "", remote_ip=remote_ip[:64])


def open_conversation(*, platform: str, customer: User) -> Ticket | None:
    """The ticket the contact's latest message on this platform belongs to, unless it is solved or closed."""
    latest = (ConversationMessage.objects.filter(platform=platform, customer=customer)
              .select_related("ticket").order_by("-created_at", "-id").first())
    if latest is None or latest.ticket.status in CLOSED_CONVERSATION:
        return None
    return latest.ticket


def _body(incoming: Incoming) -> str:
    if incoming.text:
        return incoming.text
    if incoming.media:
        return _("(%(kind)s sent on %(platform)s)") % {"kind": incoming.kind, "platform": incoming.platform}
    return ""


def _subject(incoming: Incoming, customer: User) -> str:
    first_line = (incoming.text or "").strip().splitlines()[0][:80] if incoming.text.strip() else ""
    return first_line or _("%(platform)s message from %(name)s") % {
        "platform": incoming.platform.capitalize(), "name": customer.display_name}


@transaction.atomic
def conversation_receive(*, incoming: Incoming, actor_for_gateway: Actor | None = None) -> tuple[ConversationMessage, bool]:
    """Store one incoming message (``(row, True)``), or return the row already stored for it (``(row, False)``)."""
    existing = ConversationMessage.objects.filter(platform=incoming.platform, direction=Direction.INBOUND,
                                                  external_id=incoming.external_id).first()
    if existing is not None:
        return existing, False
    customer = customer_find_or_create(kind=incoming.identity_kind, value=incoming.handle, name=incoming.name)
    while customer.merged_into_id and not customer.is_active:
        customer = User.objects.get(pk=customer.merged_into_id)
    actor = Actor(kind="customer", user=customer)
    metadata = {"messaging": {"platform": incoming.platform, "address": incoming.address, "kind": incoming.kind,
                              "external_id": incoming.external_id,
                              "media": [asdict(m) for m in incoming.media]},
                "reply_route": {"transport": incoming.platform, "address": incoming.address}}
    external_id = f"{incoming.platform}:{incoming.external_id}"[:998]
    ticket = open_conversation(platform=incoming.platform, customer=customer)
    unsupported_note = _("A %(kind)s message arrived on %(platform)s; Atende cannot show this kind of message. "
                         "Ask the customer to send it as text or a file.") % {
        "kind": incoming.kind, "platform": incoming.platform.capitalize()}
    body = _body(incoming) if incoming.supported else _("(a %(kind)s message)") % {"kind": incoming.kind}
    if ticket is None:
        ticket = ticket_create(actor=actor, requester=customer, subject=_subject(incoming, customer),
                               body_text=body, channel=Channel.MESSAGING, message_external_id=external_id,
                               message_metadata=metadata)
        message = ticket.first_message
    else:
        message = message_add_reply(ticket=ticket, actor=actor, body_text=body, channel=Channel.MESSAGING,
                                    external_id=external_id, metadata=metadata)
    if not incoming.supported:
        message_add_note(ticket=message.ticket, actor=Actor.system(), body_text=unsupported_note)
    try:
        with transaction.atomic():
            row = ConversationMessage.objects.create(
                platform=incoming.platform, direction=Direction.INBOUND, external_id=incoming.external_id,
                address=incoming.address, customer=customer, ticket=message.ticket, message=message,
                state=DeliveryState.RECEIVED)
    except IntegrityError:  # the same message delivered twice at once: the other request stored it
        transaction.set_rollback(True)
        return ConversationMessage.objects.get(platform=incoming.platform, direction=Direction.INBOUND,
                                               external_id=incoming.external_id), False
    if incoming.media:
        enqueue_on_commit("atende.messaging.tasks.media_fetch_task", row.pk)
    return row, True


@transaction.atomic
def receipt_apply(*, receipt: Receipt) -> ConversationMessage | None:
    """A delivery or read receipt moves an outgoing message's state forward (never back)."""
    row = (ConversationMessage.objects.select_for_update()
           .filter(platform=receipt.platform, direction=Direction.OUTBOUND, external_id=receipt.external_id).first())
    if row is None:
        return None
    if DELIVERY_ORDER.get(receipt.state, 0) > DELIVERY_ORDER.get(row.state, 0):
        row.state = receipt.state
        row.error = receipt.error[:2000] if receipt.state == DeliveryState.FAILED else row.error
        row.save(update_fields=["state", "error", "updated_at"])
    return row


@transaction.atomic
def conversation_media_attach(*, row: ConversationMessage, files: list[IncomingFile]) -> list[Attachment]:
    """Attach the media fetched from the platform to the message it came with (once: a retried fetch of a
    message that already has attachments adds nothing)."""
    message = Message.objects.select_related("ticket").get(pk=row.message_id)
    if message.attachments.exists() or not files:
        return []
    stored = attachments_store(ticket=message.ticket, message=message, validated=validate_files(files),
                               uploaded_by=message.author)
    record_event(message.ticket, TicketEventType.ATTACHMENT_ADDED, actor=Actor.system(),
                 data={"message_id": message.pk, "attachments": [a.pk for a in stored]})
    return stored

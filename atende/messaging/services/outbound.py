"""Agents' public replies on a ticket whose customer last wrote from a messaging app go back through that app.

They leave through the outbound engine (``atende.outbound``) like every other message: the events subscriber
only queues a ``Delivery`` (transport ``messaging``, keyed per event and conversation, so a batch handled twice
queues it once), and ``messaging.transports.MessagingTransport`` sends it outside any transaction, with the
engine's retries, backoff and attempt log. A ``ConversationMessage`` per reply carries the platform's view of it
(queued → sent, later delivered/read by receipts, or failed with the platform's reason); a reply the platform
refuses for good, or that the engine gives up on, is shown on the ticket's timeline (NOTIFICATION_FAILED, as for
mail).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.messaging.choices import DeliveryState, Direction, Platform
from atende.messaging.models import ConversationMessage, WhatsAppTemplate
from atende.messaging.selectors import messaging_route
from atende.outbound.models import Delivery
from atende.outbound.services import delivery_enqueue
from atende.tickets.choices import MessageKind, TicketEventType
from atende.tickets.models import Message, Ticket
from atende.tickets.services import message_add_reply, record_event

logger = logging.getLogger(__name__)
TRANSPORT = "messaging"  # its name in settings.OUTBOUND_TRANSPORTS


def delivery_key(*, event_id: int, platform: str, address: str, kind: str = "reply") -> str:
    """``"<event id>:messaging:<platform>:<address>"``: one send per event and conversation."""
    suffix = "" if kind == "reply" else f":{kind}"
    return f"{event_id}:messaging:{platform}:{address}{suffix}"


@transaction.atomic
def conversation_reply_enqueue(*, message_id: int, event_id: int) -> Delivery | None:
    """Queue the agent reply ``message_id`` on the ticket's messaging route (None when it has none, or when it is
    not an agent's public reply). Runs in the events subscriber's transaction; nothing is sent here."""
    message = Message.objects.select_related("ticket", "ticket__requester").filter(pk=message_id).first()
    if message is None or message.kind != MessageKind.REPLY or message.author_kind != "agent":
        return None
    route = messaging_route(message.ticket)
    if route is None:
        return None
    row, _created = ConversationMessage.objects.get_or_create(
        message=message, direction=Direction.OUTBOUND,
        defaults={"platform": route["transport"], "address": route["address"], "ticket": message.ticket,
                  "customer": message.ticket.requester, "state": DeliveryState.QUEUED})
    payload = {"platform": row.platform, "address": row.address, "text": message.body_text,
               "conversation_message_id": row.pk, "message_id": message.pk,
               "template": (message.metadata or {}).get("whatsapp_template")}
    return delivery_enqueue(transport=TRANSPORT, target=f"{row.platform}:{row.address}", payload=payload,
                            key=delivery_key(event_id=event_id, platform=row.platform, address=row.address),
                            ticket_id=message.ticket_id, source="messaging", kind="agent_reply", event_id=event_id)


@transaction.atomic
def conversation_ack_enqueue(*, ticket: Ticket, event_id: int, text: str) -> Delivery | None:
    """Queue the acknowledgement ``text`` to the customer who opened ``ticket`` from a messaging app."""
    route = messaging_route(ticket)
    if route is None or not text:
        return None
    payload = {"platform": route["transport"], "address": route["address"], "text": text}
    return delivery_enqueue(transport=TRANSPORT, target=f"{route['transport']}:{route['address']}", payload=payload,
                            key=delivery_key(event_id=event_id, platform=route["transport"],
                                             address=route["address"], kind="ack"),
                            ticket_id=ticket.pk, source="messaging", kind="acknowledgement", event_id=event_id)


def conversation_row(delivery: Delivery) -> ConversationMessage | None:
    row_id = delivery.payload.get("conversation_message_id")
    return ConversationMessage.objects.filter(pk=row_id).first() if row_id else None


def conversation_sent(*, delivery: Delivery, external_id: str) -> None:
    """The platform took the reply: the row is sent (a receipt may already have moved it further)."""
    ConversationMessage.objects.filter(pk=delivery.payload.get("conversation_message_id"),
                                       state__in=[DeliveryState.QUEUED, DeliveryState.FAILED]).update(
        external_id=external_id, state=DeliveryState.SENT, error="", updated_at=timezone.now())


def conversation_attempt_recorded(*, delivery: Delivery, error: str, given_up: bool) -> None:
    """Inside the engine's transaction that records an attempt: a failure is noted on the row; a give-up (the
    last attempt, or a refusal for good) marks it failed and says why on the ticket's timeline."""
    row = conversation_row(delivery)
    if row is not None and row.state in (DeliveryState.QUEUED, DeliveryState.FAILED):
        row.error = error[:2000]
        row.state = DeliveryState.FAILED if given_up else row.state
        row.save(update_fields=["state", "error", "updated_at"])
    if not given_up or not delivery.ticket_id:
        return
    ticket = Ticket.objects.filter(pk=delivery.ticket_id).first()
    if ticket is None:
        return
    platform = Platform(delivery.payload["platform"]).label
    record_event(ticket, TicketEventType.NOTIFICATION_FAILED, actor=Actor.system(), data={
        "kind": "messaging_reply" if delivery.kind == "agent_reply" else f"messaging_{delivery.kind}",
        "channel": delivery.payload["platform"], "recipients": [delivery.payload["address"]],
        "attempts": delivery.attempts, "outbound_id": delivery.pk,
        "error": _("not delivered on %(platform)s: %(reason)s") % {"platform": platform, "reason": error[:400]},
        "message_id": delivery.payload.get("message_id")})


@transaction.atomic
def whatsapp_template_reply(*, ticket: Ticket, template: WhatsAppTemplate, parameters: list[str],
                            actor: Actor) -> Message:
    """A public reply made of an approved template (the only thing WhatsApp takes outside the 24-hour window)."""
    user: User | None = actor.user
    if user is None or not user.is_agent:
        raise PermissionDenied(_("Only agents reply to customers."))
    route = messaging_route(ticket)
    if route is None or route["transport"] != Platform.WHATSAPP:
        raise ValidationError(_("This ticket's customer did not write on WhatsApp."), code="not_whatsapp")
    if not template.is_active:
        raise ValidationError(_("This template is not active."), code="template_inactive")
    parameters = [p.strip()[:1000] for p in parameters if p.strip()]
    text = template.body or template.name
    for number, value in enumerate(parameters, start=1):
        text = text.replace(f"{{{{{number}}}}}", value)
    return message_add_reply(ticket=ticket, actor=actor, body_text=text, metadata={"whatsapp_template": {
        "name": template.name, "language": template.language, "parameters": parameters}})

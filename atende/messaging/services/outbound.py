"""Agents' public replies on a ticket whose customer last wrote from a messaging app go back through that app.

``conversation_reply_deliver`` sends one reply (idempotent: a reply already sent is not sent again), records the
attempt on a ``ConversationMessage`` (queued → sent, later delivered/read by receipts, or failed with the
platform's reason) and, when the platform refuses it for good, records a NOTIFICATION_FAILED event on the ticket.
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
from atende.messaging.connectors import connector_enabled
from atende.messaging.models import ConversationMessage, WhatsAppTemplate
from atende.messaging.selectors import messaging_route, reply_refusal
from atende.messaging.transports import Template, TransportError, message_send
from atende.tickets.choices import MessageKind, TicketEventType
from atende.tickets.models import Message, Ticket
from atende.tickets.services import message_add_reply, record_event

logger = logging.getLogger(__name__)


@transaction.atomic
def _claim(message: Message, route: dict[str, str]) -> ConversationMessage | None:
    row, created = ConversationMessage.objects.select_for_update().get_or_create(
        message=message, direction=Direction.OUTBOUND,
        defaults={"platform": route["transport"], "address": route["address"], "ticket": message.ticket,
                  "customer": message.ticket.requester, "state": DeliveryState.QUEUED})
    if not created and row.state not in (DeliveryState.QUEUED,):
        return None  # sent (or failed for good) already
    return row


def conversation_reply_deliver(*, message_id: int) -> ConversationMessage | None:
    """Send the agent reply ``message_id`` on the ticket's messaging route (None when it has none). Network I/O
    happens outside any transaction; a temporary failure raises ``TransportError`` so the queue retries."""
    message = Message.objects.select_related("ticket", "ticket__requester").filter(pk=message_id).first()
    if message is None or message.kind != MessageKind.REPLY or message.author_kind != "agent":
        return None
    route = messaging_route(message.ticket)
    if route is None:
        return None
    row = _claim(message, route)
    if row is None:
        return None
    if not connector_enabled(row.platform):
        return _fail(row, _("the %(platform)s connector is not configured (see docs/channels.md).")
                     % {"platform": row.get_platform_display()})
    template_data = (message.metadata or {}).get("whatsapp_template")
    refusal = "" if template_data else reply_refusal(message.ticket)
    if refusal:
        return _fail(row, refusal)
    template = Template(name=template_data["name"], language=template_data["language"],
                        parameters=tuple(template_data.get("parameters") or ())) if template_data else None
    try:
        external_id = message_send(platform=row.platform, address=row.address, text=message.body_text,
                                   template=template)
    except TransportError as exc:
        if exc.retryable:
            ConversationMessage.objects.filter(pk=row.pk).update(error=str(exc)[:2000], updated_at=timezone.now())
            raise
        return _fail(row, str(exc))
    ConversationMessage.objects.filter(pk=row.pk).update(external_id=external_id, state=DeliveryState.SENT,
                                                         error="", updated_at=timezone.now())
    row.refresh_from_db()
    return row


@transaction.atomic
def _fail(row: ConversationMessage, reason: str) -> ConversationMessage:
    """A refusal for good: the row says why, and so does the ticket's timeline (a NOTIFICATION_FAILED event, as
    for mail that could not be delivered; it does not change the ticket, so no agent's open form goes stale)."""
    row.state, row.error = DeliveryState.FAILED, reason[:2000]
    row.save(update_fields=["state", "error", "updated_at"])
    record_event(row.ticket, TicketEventType.NOTIFICATION_FAILED, actor=Actor.system(), data={
        "kind": "messaging_reply", "channel": row.platform, "recipients": [row.address], "attempts": 1,
        "error": _("not delivered on %(platform)s: %(reason)s") % {
            "platform": row.get_platform_display(), "reason": reason[:400]},
        "message_id": row.message_id})
    return row


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

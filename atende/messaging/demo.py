"""Demo data: a customer reachable only by phone, with a WhatsApp conversation (stored as the webhook would store
it, answered by an agent and solved), and one approved WhatsApp template for replies outside the 24-hour window."""

from atende.accounts.identities import customer_find_or_create
from atende.accounts.selectors import agent_list
from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.messaging.choices import DeliveryState, Direction, Platform
from atende.messaging.models import ConversationMessage, WhatsAppTemplate
from atende.messaging.services.inbound import conversation_receive
from atende.messaging.services.payloads import Incoming
from atende.tickets.services import message_add_reply, ticket_transition

DEMO_PHONE = "5511987650001"


def load_demo() -> dict[str, int]:
    WhatsAppTemplate.objects.get_or_create(name="ticket_update", language="pt_BR", defaults={
        "body": "Olá! Temos novidades sobre o seu atendimento: {{1}}"})
    customer_find_or_create(kind="phone", value=f"+{DEMO_PHONE}", name="Rita Fonseca")  # known by phone only
    row, created = conversation_receive(incoming=Incoming(
        platform=Platform.WHATSAPP, identity_kind="whatsapp", handle=DEMO_PHONE, address=DEMO_PHONE,
        name="Rita Fonseca", external_id="wamid.demo-0001", kind="text",
        text="Oi! Meu boleto venceu ontem e não consigo gerar a segunda via pelo app. Podem me ajudar?"))
    agent = agent_list().first()
    if created and agent is not None:
        actor = Actor.for_user(agent)
        with events_suppressed():  # the demo has no WhatsApp connector: nothing is sent
            answer = message_add_reply(ticket=row.ticket, actor=actor, body_text=(
                "Olá, Rita! Gerei a segunda via com vencimento para sexta-feira; o link chega por e-mail em "
                "instantes. Posso ajudar em algo mais?"))
            ConversationMessage.objects.create(
                platform=Platform.WHATSAPP, direction=Direction.OUTBOUND, external_id="wamid.demo-0002",
                address=DEMO_PHONE, customer=row.customer, ticket=answer.ticket, message=answer,
                state=DeliveryState.READ)
            ticket_transition(ticket=answer.ticket, to="solved", actor=actor)
    return {"whatsapp conversations": int(created)}

"""Demo data: a customer reachable only by phone, with a WhatsApp conversation (as the webhook would store it),
and one approved WhatsApp template for replies outside the 24-hour window."""

from atende.accounts.identities import customer_find_or_create
from atende.messaging.models import WhatsAppTemplate
from atende.messaging.services.inbound import conversation_receive
from atende.messaging.services.payloads import Incoming

DEMO_PHONE = "5511987650001"


def load_demo() -> dict[str, int]:
    WhatsAppTemplate.objects.get_or_create(name="ticket_update", language="pt_BR", defaults={
        "body": "Olá! Temos novidades sobre o seu atendimento: {{1}}"})
    customer_find_or_create(kind="phone", value=f"+{DEMO_PHONE}", name="Rita Fonseca")  # known by phone only
    _row, created = conversation_receive(incoming=Incoming(
        platform="whatsapp", identity_kind="whatsapp", handle=DEMO_PHONE, address=DEMO_PHONE,
        name="Rita Fonseca", external_id="wamid.demo-0001", kind="text",
        text="Oi! Meu boleto venceu ontem e não consigo gerar a segunda via pelo app. Podem me ajudar?"))
    return {"whatsapp conversations": int(created)}

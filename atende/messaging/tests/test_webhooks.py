"""Both connectors' inbound webhooks, with the platforms' documented payloads posted to the real endpoints:
signature checks, tickets and replies on the contact's conversation, deduplication, media fetched from the
loopback stand-in, unknown message types, malformed bodies kept for inspection, and receipts."""

import copy
import hashlib
import hmac
import json

import pytest

from atende.accounts.identities import customer_find_or_create
from atende.messaging.models import ConversationMessage, InboundWebhook
from atende.messaging.tests.conftest import TELEGRAM_SECRET, WA_APP_SECRET, WA_VERIFY, fixture
from atende.tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db
TG_URL = f"/messaging/telegram/{TELEGRAM_SECRET}/"
WA_URL = "/messaging/whatsapp/"


def post_telegram(client, payload, secret=TELEGRAM_SECRET, url=TG_URL):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(url, body, content_type="application/json", headers=headers)


def sign(body: bytes, secret: str = WA_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_whatsapp(client, payload, signature: str | None = "auto"):
    body = (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    headers = {} if signature is None else {"X-Hub-Signature-256": sign(body) if signature == "auto" else signature}
    return client.post(WA_URL, body, content_type="application/json", headers=headers)


# --- Telegram -----------------------------------------------------------------------------------------------------

def test_telegram_message_opens_a_ticket_for_a_new_contact(client, connectors):
    response = post_telegram(client, fixture("telegram_text.json"))
    assert response.status_code == 200 and response.json()["created"] == 1
    ticket = Ticket.objects.get()
    assert ticket.channel == "messaging" and ticket.subject == "My order has not arrived"
    customer = ticket.requester
    assert customer.email is None and customer.name == "Test Firstname Test Lastname"
    assert list(customer.identities.values_list("kind", "value")) == [("telegram", "1111111")]
    message = ticket.messages.get()
    assert message.body_text.endswith("It was order 4521.")
    assert message.metadata["reply_route"] == {"transport": "telegram", "address": "1111111"}
    assert InboundWebhook.objects.get().outcome == "processed"


def test_reposted_update_creates_nothing(client, connectors):
    for _ in range(3):
        assert post_telegram(client, fixture("telegram_text.json")).status_code == 200
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert ConversationMessage.objects.count() == 1
    assert list(InboundWebhook.objects.order_by("id").values_list("outcome", flat=True)) == [
        "processed", "duplicate", "duplicate"]


def test_next_message_is_a_reply_on_the_open_conversation_and_media_is_attached(
        client, connectors, django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(client, fixture("telegram_photo.json"))
    ticket = Ticket.objects.get()
    reply = ticket.messages.order_by("id").last()
    assert reply.body_text == "Here is the damaged box" and reply.author == ticket.requester
    attachment = Attachment.objects.get(message=reply)
    assert attachment.filename == "file_7.png" and attachment.size == 72
    assert [r["json"] for r in connectors.sent("/getFile")] == [{"file_id": "AgADBAADlarge"}]  # the largest size


def test_solved_conversation_starts_a_new_ticket(client, connectors, agent):
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_transition

    post_telegram(client, fixture("telegram_text.json"))
    ticket_transition(ticket=Ticket.objects.get(), to="solved", actor=Actor.for_user(agent))
    post_telegram(client, fixture("telegram_photo.json"))
    assert Ticket.objects.count() == 2


def test_unknown_message_kind_is_kept_with_a_note_saying_what_arrived(client, connectors):
    post_telegram(client, fixture("telegram_sticker.json"))
    ticket = Ticket.objects.get()
    note = ticket.messages.get(kind="note")
    assert "A sticker message arrived on Telegram" in note.body_text
    assert ticket.messages.get(kind="reply").body_text == "(a sticker message)"


@pytest.mark.parametrize(("secret", "status", "outcome"), [(None, 401, "unauthorized"), ("wrong", 403, "forbidden"),
                                                            ("", 401, "unauthorized")])
def test_telegram_without_the_right_secret_header_is_refused_and_logged(client, connectors, secret, status, outcome):
    response = post_telegram(client, fixture("telegram_text.json"), secret=secret)
    assert response.status_code == status and response.json()["error"]["code"] == outcome
    assert not Ticket.objects.exists()
    assert InboundWebhook.objects.get().outcome == outcome


def test_wrong_path_secret_or_connector_off_is_404(client, connectors, settings):
    assert post_telegram(client, fixture("telegram_text.json"), url="/messaging/telegram/guess/").status_code == 404
    settings.ATENDE_MESSAGING = {**settings.ATENDE_MESSAGING, "telegram": {"bot_token": "", "webhook_secret": ""}}
    assert post_telegram(client, fixture("telegram_text.json")).status_code == 404


def _broken_updates():
    text = fixture("telegram_text.json")
    no_id = copy.deepcopy(text)
    del no_id["update_id"]
    no_from = copy.deepcopy(text)
    del no_from["message"]["from"]
    bad_chat = copy.deepcopy(text)
    bad_chat["message"]["chat"] = "me"
    empty_photo = copy.deepcopy(fixture("telegram_photo.json"))
    empty_photo["message"]["photo"] = []
    return [("not json", "not JSON"), ("[1, 2]", "update must be an object"), (no_id, "update_id is missing"),
            (no_from, "message.from must be an object"), (bad_chat, "message.chat must be an object"),
            (empty_photo, "message.photo is empty")]


@pytest.mark.parametrize(("payload", "reason"), _broken_updates())
def test_malformed_update_is_400_with_the_reason_and_the_raw_body_kept(client, connectors, payload, reason):
    response = post_telegram(client, payload)
    assert response.status_code == 400 and reason in response.json()["error"]["message"]
    logged = InboundWebhook.objects.get()
    assert logged.outcome == "malformed" and reason in logged.reason
    assert logged.body == (payload if isinstance(payload, str) else json.dumps(payload))
    assert not Ticket.objects.exists()


# --- WhatsApp -----------------------------------------------------------------------------------------------------

def test_whatsapp_verification_handshake(client, connectors):
    ok = client.get(WA_URL, {"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(WA_URL, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_whatsapp_message_reaches_the_customer_known_by_phone(client, connectors):
    known = customer_find_or_create(kind="phone", value="+55 11 91234-5678", name="Sheena")
    response = post_whatsapp(client, fixture("whatsapp_text.json"))
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.requester == known and ticket.subject == "Does it come in another color?"
    assert known.identities.filter(kind="whatsapp", value="+5511912345678").exists()


def test_whatsapp_document_is_attached_from_the_media_endpoint(client, connectors,
                                                              django_capture_on_commit_callbacks):
    post_whatsapp(client, fixture("whatsapp_text.json"))
    with django_capture_on_commit_callbacks(execute=True):
        post_whatsapp(client, fixture("whatsapp_document.json"))
    message = Ticket.objects.get().messages.order_by("id").last()
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type) == ("invoice.pdf", "application/pdf")
    assert all(r["auth"] == "Bearer EAAG-test-access-token" for r in connectors.requests if r["method"] == "GET")


def test_whatsapp_reaction_is_stored_as_a_note(client, connectors):
    post_whatsapp(client, fixture("whatsapp_reaction.json"))
    assert "A reaction message arrived on Whatsapp" in Ticket.objects.get().messages.get(kind="note").body_text


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("sha256=" + "0" * 64, 403), ("md5=abc", 403)])
def test_whatsapp_unsigned_or_wrongly_signed_is_refused(client, connectors, signature, status):
    response = post_whatsapp(client, fixture("whatsapp_text.json"), signature=signature)
    assert response.status_code == status and not Ticket.objects.exists()


def test_whatsapp_signature_over_other_bytes_is_refused(client, connectors):
    body = json.dumps(fixture("whatsapp_text.json")).encode()
    response = client.post(WA_URL, body + b" ", content_type="application/json",
                           headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 403


def test_whatsapp_wrong_object_is_malformed(client, connectors):
    response = post_whatsapp(client, {"object": "page", "entry": []})
    assert response.status_code == 400 and "whatsapp_business_account" in response.json()["error"]["message"]

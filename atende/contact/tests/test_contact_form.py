"""The public contact form: a ticket at once for a visitor without an account, the acknowledgement, and each
abuse control (honeypot, form token too fast / replayed / forged, per-IP and per-address limits, uploads)."""

import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from atende.accounts.models import ContactIdentity, User
from atende.accounts.services import user_create
from atende.contact.guards import form_token_issue
from atende.contact.models import ContactFormSettings
from atende.kb.models import Deflection
from atende.kb.services import deflection_start
from atende.outbound.models import Delivery
from atende.sla.models import SlaPolicy
from atende.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db
URL = "/contact/"


@pytest.fixture(autouse=True)
def _fast_forms(settings):
    settings.CONTACT_FORM_MIN_SECONDS = 0


def token_from(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def send(client, url=URL, token=None, **fields):
    token = token or token_from(client.get(url).content.decode())
    data = {"name": "Maria Silva", "email": "maria@example.com", "subject": "Order never arrived",
            "description": "I ordered a kettle two weeks ago.", "form_token": token, **fields}
    return client.post(url, data)


def test_visitor_without_account_gets_a_ticket_and_an_acknowledgement(client):
    SlaPolicy.objects.create(name="Default", first_reply_minutes=240)
    response = send(client)
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    html = response.content.decode()
    assert f"#{ticket.number}" in html and "We usually answer within 4 business hours." in html
    assert ticket.channel == "web" and ticket.subject == "Order never arrived"
    customer = User.objects.get(email="maria@example.com")
    assert ticket.requester == customer and customer.name == "Maria Silva" and customer.is_customer
    assert ContactIdentity.objects.filter(customer=customer, kind="email", is_primary=True).exists()
    ack = Delivery.objects.get(ticket_id=ticket.pk, transport="mail").payload
    assert ack["to"] == ["maria@example.com"] and f"[#{ticket.number}]" in ack["subject"]
    assert "We usually answer within 4 business hours." in ack["body_text"]
    assert "/accounts/magic-link/" in ack["body_text"] and f"next=/portal/tickets/{ticket.number}/" in ack["body_text"]
    assert f"+{ticket.number}-{ticket.reply_token}@" in ack["reply_to"]  # a reply by email threads into the ticket


def test_known_address_reuses_the_customer(client, customer):
    send(client, email=customer.email.upper())
    assert Ticket.objects.get().requester == customer


def test_phone_only_visitor_gets_a_phone_customer_and_no_email(client):
    response = send(client, email="", phone="(11) 91234-5678")
    assert response.status_code == 201
    customer = Ticket.objects.get().requester
    assert customer.email is None and customer.identities.get().value == "+5511912345678"
    assert "at the number you gave" in response.content.decode()
    assert not Delivery.objects.filter(transport="mail").exists()


def test_neither_email_nor_phone_is_a_form_error(client):
    response = send(client, email="", phone="")
    assert response.status_code == 400 and "Give an email address or a phone number" in response.content.decode()
    assert not Ticket.objects.exists()


def test_invalid_phone_says_why(client):
    response = send(client, email="", phone="12")
    assert response.status_code == 422 and "not a valid phone number" in response.content.decode()
    assert not Ticket.objects.exists() and not User.objects.exists()


def test_honeypot_filled_creates_nothing(client):
    response = send(client, website="http://spam.example")
    assert response.status_code == 400 and not Ticket.objects.exists()


def test_too_fast_submission_is_refused(client, settings):
    settings.CONTACT_FORM_MIN_SECONDS = 2
    response = send(client, token=form_token_issue())
    assert response.status_code == 400 and "too fast" in response.content.decode()
    assert send(client, token=form_token_issue(now=time.time() - 3)).status_code == 201


@pytest.mark.parametrize("token", ["", "garbage", "eyJuIjoiYSIsInQiOjB9:forged:signature"])
def test_missing_or_forged_token_is_refused(client, token):
    response = client.post(URL, {"name": "x", "email": "x@example.com", "subject": "s", "description": "d",
                                 "form_token": token})
    assert response.status_code == 400 and "could not be checked" in response.content.decode()
    assert not Ticket.objects.exists()


def test_expired_token_is_refused(client, settings):
    response = send(client, token=form_token_issue(now=time.time() - settings.CONTACT_FORM_TOKEN_MAX_AGE - 5))
    assert response.status_code == 400 and "open too long" in response.content.decode()


def test_replayed_token_is_refused(client):
    token = token_from(client.get(URL).content.decode())
    assert send(client, token=token).status_code == 201
    again = send(client, token=token)
    assert again.status_code == 400 and "already sent" in again.content.decode()
    assert Ticket.objects.count() == 1


def test_per_address_limit_with_a_clear_message(client, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "contact.address": "2/10m"}
    assert [send(client).status_code for _ in range(2)] == [201, 201]
    refused = send(client)
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    assert send(client, email="other@example.com").status_code == 201
    assert Ticket.objects.count() == 3


def test_per_ip_limit(client, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "contact.ip": "1/10m"}
    assert send(client).status_code == 201
    assert send(client, email="else@example.com").status_code == 429


@pytest.mark.parametrize(("upload", "error"), [
    (SimpleUploadedFile("big.pdf", b"%PDF-1.4 " + b"x" * 3000, "application/pdf"), "the limit is"),
    (SimpleUploadedFile("run.exe", b"MZ\x90\x00" * 10, "application/x-msdownload"), "are not accepted"),
    (SimpleUploadedFile("empty.txt", b"", "text/plain"), "empty"),
])
def test_bad_attachments_are_refused(client, settings, upload, error):
    settings.ATTACHMENT_MAX_BYTES = 2000
    response = send(client, attachments=[upload])
    assert response.status_code == 400 and error in response.content.decode()
    assert not Ticket.objects.exists()


def test_good_attachment_is_stored(client):
    pdf = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")
    assert send(client, attachments=[pdf]).status_code == 201
    assert Attachment.objects.get().filename == "receipt.pdf"


def test_form_off_and_portal_account_modes(client):
    settings_row = ContactFormSettings.objects.create(mode="off")
    assert client.get(URL).status_code == 404
    settings_row.mode = "account"
    settings_row.save()
    assert client.get(URL)["Location"] == reverse("portal:request_new")


def test_verified_mode_accepts_only_verified_addresses(client):
    ContactFormSettings.objects.create(mode="verified")
    refused = send(client)
    assert refused.status_code == 403 and "verified addresses" in refused.content.decode()
    assert not User.objects.exists()
    user_create(email="maria@example.com", name="Maria", email_verified=True)
    assert send(client).status_code == 201
    assert 'name="phone"' not in client.get(URL).content.decode()


def test_agent_address_cannot_open_tickets_as_a_customer(client, agent):
    response = send(client, email=agent.email)
    assert response.status_code == 422 and not Ticket.objects.exists()


def test_submitting_counts_suggestions_as_not_deflecting(client, public_article):
    client.get(URL)
    session_key = client.session.session_key or ""
    client.session.save()
    html = client.get(URL).content.decode()
    deflection_start(article=public_article, session_key=client.session.session_key, customer=None)
    send(client, token=token_from(html))
    assert Deflection.objects.get().outcome == "submitted"
    assert session_key is not None


def test_custom_fields_of_the_configured_ticket_form_are_asked_and_stored(client):
    from atende.tickets.models import CustomField, TicketForm, TicketFormField

    order = CustomField.objects.create(key="order_number", label="Order number", kind="text")
    form = TicketForm.objects.create(name="Orders")
    TicketFormField.objects.create(form=form, field=order, required=True, position=1)
    ContactFormSettings.objects.create(ticket_form=form)
    html = client.get(URL).content.decode()
    assert "Order number" in html
    assert send(client, token=token_from(html)).status_code == 400
    assert send(client, cf_order_number="A-1").status_code == 201
    assert Ticket.objects.get().custom_fields == {"order_number": "A-1"}

"""Privacy: a person's data export, and erasure that anonymises the person but keeps ticket statistics."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from atende.accounts.models import User
from atende.api.services import api_token_create
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.integrations.models import PrivacyRequest
from atende.integrations.services.privacy import privacy_erase, privacy_export
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent
from atende.tickets.services import IncomingFile, message_add_note, message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def history(customer, agent):
    ticket = make_ticket(requester=customer, subject=f"Problem for {customer.name}", body="My phone is 555-0101",
                         attachments=[IncomingFile("id.png", b"\x89PNG\r\n\x1a\nxx", "image/png")])
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="We are on it.")
    message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text="VIP customer")
    ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent), resolution_summary="Fixed")
    return ticket


def test_export_contains_what_the_person_could_see(history, customer, admin_user):
    data = privacy_export(actor=Actor.for_user(admin_user), person=customer)
    assert data["person"]["email"] == customer.email
    assert [t["number"] for t in data["tickets"]] == [history.number]
    bodies = [m["body_text"] for m in data["tickets"][0]["messages"]]
    assert bodies == ["My phone is 555-0101", "We are on it."]  # no internal notes
    assert data["tickets"][0]["messages"][0]["attachments"][0]["filename"] == "id.png"
    assert PrivacyRequest.objects.get().action == "export"


def test_erasure_anonymises_the_person_and_keeps_statistics(history, customer, admin_user, tmp_path):
    api_token_create(actor=Actor.for_user(customer), user=customer, name="t")
    old_email, old_name = customer.email, customer.name
    before = Ticket.objects.values("status", "priority", "solved_at", "created_at", "team_id").get(pk=history.pk)
    summary = privacy_erase(actor=Actor.for_user(admin_user), person=customer)
    assert summary["tickets"] == 1 and summary["attachments"] == 1

    person = User.objects.get(pk=customer.pk)
    assert person.email == f"erased-{person.pk}@erased.invalid" and not person.is_active
    assert not person.has_usable_password() and person.api_tokens.count() == 0
    ticket = Ticket.objects.get(pk=history.pk)
    assert ticket.subject == f"Ticket #{ticket.number} (erased)"
    assert Ticket.objects.values("status", "priority", "solved_at", "created_at", "team_id").get(
        pk=history.pk) == before
    texts = list(Message.objects.filter(ticket=ticket).values_list("body_text", flat=True))
    assert "My phone is 555-0101" not in texts and "[erased]" in texts
    assert "We are on it." in texts  # the agent's words are not the customer's data
    assert not Attachment.objects.filter(ticket=ticket).exists()
    dumped = json.dumps(list(TicketEvent.objects.filter(ticket=ticket).values_list("data", flat=True)))
    assert old_email not in dumped and old_name not in dumped
    log = PrivacyRequest.objects.get(action="erase")
    assert log.subject_email == "" and old_email not in json.dumps(log.summary)


def test_staff_are_not_erased(agent, admin_user, db):
    with pytest.raises(ValidationError):
        privacy_erase(actor=Actor.for_user(admin_user), person=agent)


def test_privacy_commands(history, customer, tmp_path):
    out_file = tmp_path / "export.json"
    call_command("privacy-export", customer.email, "-o", str(out_file), stderr=io.StringIO())
    assert json.loads(out_file.read_text())["person"]["email"] == customer.email
    out = io.StringIO()
    call_command("privacy-erase", customer.email, "--yes", stdout=out)
    assert "1 tickets anonymised" in out.getvalue()
    assert not User.objects.filter(email=customer.email).exists()


def test_privacy_endpoints_for_admins(history, customer, admin_user, agent):
    from atende.api.tests.conftest import ApiClient, token_for

    admin = ApiClient(token_for(admin_user, "admin"))
    exported = admin.get(f"/privacy/customers/{customer.pk}/export")
    assert exported.status_code == 200 and exported.json()["person"]["email"] == customer.email
    assert ApiClient(token_for(agent)).post(f"/privacy/customers/{customer.pk}/erase").status_code == 403
    erased = admin.post(f"/privacy/customers/{customer.pk}/erase")
    assert erased.status_code == 200 and erased.json()["tickets"] == 1

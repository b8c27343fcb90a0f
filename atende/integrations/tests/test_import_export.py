"""Import (Zendesk-style export, CSV, Atende JSON lines) and export → import round trips."""

from __future__ import annotations

import copy
import io
import json
import os

import pytest
from django.core import mail
from django.core.management import call_command

from atende.accounts.models import Organization, User
from atende.core.actor import Actor
from atende.integrations.exporting import export_tickets
from atende.integrations.importing import read_import_file
from atende.integrations.services.importing import import_batch
from atende.tickets.choices import MessageKind, TicketEventType
from atende.tickets.models import Message, Ticket, TicketEvent
from atende.tickets.services import message_add_note, message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket


def _zendesk(shared_data_dir: str, name: str) -> dict:
    path = os.path.join(shared_data_dir, "other", "zendesk-api-zenpy", "specification", "zendesk", f"{name}.json")
    with open(path) as handle:
        return json.load(handle)


@pytest.fixture
def zendesk_export(shared_data_dir) -> dict:
    """An incremental-export page built from Zendesk's own sample objects: two tickets (the sample, and a solved
    one from an end user), the side-loaded users and organisation, and the comments of both."""
    ticket = _zendesk(shared_data_dir, "ticket")
    admin = _zendesk(shared_data_dir, "user")
    organization = _zendesk(shared_data_dir, "organization")
    comment = _zendesk(shared_data_dir, "comment")
    end_user = {**copy.deepcopy(admin), "id": 777, "name": "Ana Souza", "email": "ana@cliente.example",
                "role": "end-user", "locale": "pt-BR"}
    second = {**copy.deepcopy(ticket), "id": 2, "subject": "Invoice is wrong", "raw_subject": "Invoice is wrong",
              "description": "My invoice shows the wrong amount.", "status": "solved", "priority": None,
              "type": "question", "requester_id": 777, "tags": ["billing"], "via": {"channel": "email"}}
    first_comment = {"id": 1, "ticket_id": 1, "type": "Comment", "body": ticket["description"], "public": True,
                     "author_id": ticket["requester_id"], "created_at": ticket["created_at"], "attachments": []}
    reply = {**copy.deepcopy(comment), "ticket_id": 1, "author_id": admin["id"], "created_at": "2015-07-25T02:22:00Z"}
    note = {"id": 1275, "ticket_id": 2, "type": "Comment", "body": "Checked the ledger.", "public": False,
            "author_id": admin["id"], "created_at": "2015-07-26T10:00:00Z", "attachments": []}
    return {"tickets": [ticket, second], "users": [admin, end_user], "organizations": [organization],
            "comments": [first_comment, reply, note], "end_time": 1437791000, "next_page": None, "count": 2}


def _import(document, fmt="auto", **kwargs):
    text = document if isinstance(document, str) else json.dumps(document)
    return import_batch(read_import_file(io.StringIO(text), fmt=fmt), **kwargs)


def test_zendesk_export_imports_tickets_comments_people(zendesk_export, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = _import(zendesk_export)
    assert report.created == 2 and report.rejected == []
    sample = Ticket.objects.get(external_id="1")
    assert sample.subject == "This is a sample ticket requested and submitted by you"
    assert sample.status == "pending" and sample.priority == "high" and sample.type == "incident"
    assert sample.organization.name == "Testing"
    assert sorted(t.name for t in sample.tags.all()) == ["sample", "zendesk"]
    assert sample.created_at.isoformat() == "2015-07-25T02:21:13+00:00"
    thread = list(sample.messages.order_by("created_at"))
    assert [m.body_text for m in thread] == [sample.messages.first().body_text, "Thanks for your help!"]
    assert thread[1].metadata["zendesk"]["attachments"][0]["name"] == "crash.log"
    solved = Ticket.objects.get(external_id="2")
    assert solved.status == "solved" and solved.channel == "email"
    assert solved.requester.email == "ana@cliente.example" and solved.requester.locale == "pt-br"
    assert solved.messages.filter(kind=MessageKind.NOTE, body_text="Checked the ledger.").exists()
    assert User.objects.get(email="facetoe@facetoe.com.au").role == "agent"
    # history, not news: events are kept, nothing was notified
    assert TicketEvent.objects.filter(ticket=solved, type=TicketEventType.STATUS_CHANGED).exists()
    assert mail.outbox == []


def test_zendesk_import_is_idempotent_and_incremental(zendesk_export, db):
    _import(zendesk_export)
    counts = (Ticket.objects.count(), Message.objects.count(), User.objects.count(), Organization.objects.count())
    again = _import(zendesk_export)
    assert again.created == 0 and again.unchanged == 2
    assert (Ticket.objects.count(), Message.objects.count(), User.objects.count(),
            Organization.objects.count()) == counts
    # a later page brings a new customer comment on ticket 1: only that is added, and it reopens nothing closed
    zendesk_export["comments"].append({"id": 9001, "ticket_id": 1, "body": "Any news?", "public": True,
                                       "author_id": 1159307768, "created_at": "2015-07-27T09:00:00Z"})
    later = _import(zendesk_export)
    assert later.updated == 1 and later.messages_added == 1
    assert Message.objects.count() == counts[1] + 1


def test_comment_by_a_user_missing_from_the_export_is_kept(zendesk_export, shared_data_dir, db):
    raw = {**_zendesk(shared_data_dir, "comment"), "ticket_id": 2, "created_at": "2015-07-27T00:00:00Z"}
    zendesk_export["comments"].append(raw)  # Zendesk's sample: author 123123 is not side-loaded
    assert _import(zendesk_export).rejected == []
    message = Message.objects.get(body_text="Thanks for your help!", ticket__external_id="2")
    assert message.author is None and message.metadata["unknown_author"] == "123123"


def test_bad_rows_are_rejected_with_reasons(zendesk_export, db):
    zendesk_export["tickets"].append({"id": 3, "subject": "", "status": "open", "requester_id": 777})
    zendesk_export["tickets"].append({"id": 4, "subject": "Deleted", "status": "deleted", "requester_id": 777})
    zendesk_export["tickets"].append({"id": 5, "subject": "Ghost", "status": "open", "requester_id": 31337,
                                      "description": "who?"})
    report = _import(zendesk_export)
    assert report.created == 2
    reasons = dict(report.rejected)
    assert "subject is empty" in reasons["ticket 3"]
    assert "deleted" in reasons["ticket 4"]
    assert "31337" in reasons["ticket 5"]
    assert not Ticket.objects.filter(subject="Ghost").exists()


def test_csv_import_groups_rows_into_threads(db, agent):
    rows = (
        "external_id,subject,status,priority,requester_email,requester_name,tags,created_at,"
        "message_external_id,message_kind,message_author_email,message_body,message_created_at\n"
        f"A-1,Printer jam,pending,high,joe@acme.example,Joe,hardware office,2024-03-01T09:00:00Z,m1,reply,"
        f"joe@acme.example,It jams.,2024-03-01T09:00:00Z\n"
        f"A-1,,,,joe@acme.example,,,,m2,reply,{agent.email},Try the blue lever.,2024-03-01T10:00:00Z\n"
        f"A-2,Login,open,,,,,,m3,reply,,No requester,\n"
        f"A-3,Password,not-a-status,,sue@acme.example,Sue,,,m4,reply,,Help,\n"
    )
    report = _import(rows, fmt="csv")
    assert report.created == 1
    ticket = Ticket.objects.get(external_id="A-1")
    assert ticket.status == "pending" and ticket.priority == "high"
    assert [m.body_text for m in ticket.messages.order_by("created_at")] == ["It jams.", "Try the blue lever."]
    assert ticket.messages.get(body_text="Try the blue lever.").author == agent
    assert ticket.first_response_at is not None
    reasons = dict(report.rejected)
    assert "requester_email is empty" in reasons["row 4"]
    assert "not-a-status" in reasons["row 5"]
    assert _import(rows, fmt="csv").created == 0


def test_export_then_import_round_trip(db, customer, agent, team):
    first = make_ticket(requester=customer, subject="VPN down", tags=["vpn"], actor=Actor.for_user(agent), team=team)
    message_add_reply(ticket=first, actor=Actor.for_user(agent), body_text="Restarting the gateway.")
    message_add_note(ticket=first, actor=Actor.for_user(agent), body_text="Gateway logs attached.")
    ticket_transition(ticket=first, to="solved", actor=Actor.for_user(agent), resolution_summary="Restarted")
    make_ticket(requester=customer, subject="Second question")

    out = io.StringIO()
    assert export_tickets(out, fmt="jsonl", with_messages=True) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["subject"] for line in lines] == ["VPN down", "Second question"]
    assert [m["kind"] for m in lines[0]["messages"]] == ["reply", "reply", "note"]

    report = import_batch(read_import_file(io.StringIO(out.getvalue()), system="other-atende"))
    assert report.created == 2 and report.rejected == []
    copy_ = Ticket.objects.exclude(pk__in=[first.pk]).get(subject="VPN down")
    assert copy_.status == "solved" and copy_.team == team and copy_.requester == customer
    assert sorted(t.name for t in copy_.tags.all()) == ["vpn"]
    assert [(m.kind, m.body_text) for m in copy_.messages.order_by("created_at", "id")] == [
        (m.kind, m.body_text) for m in first.messages.order_by("created_at", "id")]
    assert copy_.created_at == first.created_at
    # a second import of the same export is a no-op
    again = import_batch(read_import_file(io.StringIO(out.getvalue()), system="other-atende"))
    assert again.created == 0 and Ticket.objects.count() == 4


def test_csv_export_round_trips_through_csv_import(db, customer, agent):
    ticket = make_ticket(requester=customer, subject="Refund", external_id="crm-55")
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Refund issued.")
    out = io.StringIO()
    export_tickets(out, fmt="csv", with_messages=True)
    report = import_batch(read_import_file(io.StringIO(out.getvalue()), fmt="csv", system="legacy"))
    assert report.created == 1
    copy_ = Ticket.objects.exclude(pk=ticket.pk).get()
    assert copy_.external_id == "crm-55"
    assert [m.body_text for m in copy_.messages.order_by("created_at")] == ["It is on fire.", "Refund issued."]


def test_export_filters_like_the_api(db, customer, agent):
    keep = make_ticket(requester=customer, subject="Keep", tags=["vip"], actor=Actor.for_user(agent))
    make_ticket(requester=customer, subject="Skip")
    out = io.StringIO()
    call_command("export", "--filter", "tags=vip", stdout=out, stderr=io.StringIO())
    assert [json.loads(line)["number"] for line in out.getvalue().splitlines()] == [keep.number]


def test_import_command_prints_summary_and_rejections(zendesk_export, db, tmp_path):
    zendesk_export["tickets"].append({"id": 4, "subject": "Deleted", "status": "deleted", "requester_id": 777})
    path = tmp_path / "zendesk.json"
    path.write_text(json.dumps(zendesk_export))
    out, err = io.StringIO(), io.StringIO()
    call_command("import", str(path), stdout=out, stderr=err)
    assert "2 tickets created" in out.getvalue()
    assert "ticket 4: status 'deleted' cannot be imported" in out.getvalue()
    assert "Importing 2/2 (100%)" in err.getvalue()

"""Suggestions on live tickets: every new ticket (API, email) gets them, auto-apply above the threshold drives
routing and says so in the history, agents' corrections are recorded, and nothing breaks ticket creation."""

import logging

import pytest

from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.api.tests.conftest import ApiClient, token_for
from atende.automation.services.assignment import team_set_assignment
from atende.core.actor import Actor
from atende.email_channel.models import Mailbox
from atende.email_channel.services import inbound_process, inbound_store
from atende.email_channel.tests.conftest import make_raw
from atende.tickets.choices import TicketEventType as E
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import ticket_update
from atende.tickets.tests.factories import make_ticket
from atende.triage.models import AppliedBy, FieldSetting, Prediction, TriageModel
from atende.triage.predictions import forget_loaded_model, model_path
from atende.triage.services import triage_train
from atende.triage.suggestions import triage_predict_for_tickets, triage_record_corrections

BILLING_TEXT = {"subject": "Charged twice on my card", "body": "Hello, charged twice on my card since this morning."}


@pytest.fixture
def trained(desk):
    triage_train(actor=Actor.system())
    return desk


@pytest.fixture
def live(django_capture_on_commit_callbacks):
    """Deliver events and run their tasks as the on-commit hooks do in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _new_ticket(live, **kwargs):
    requester = kwargs.pop("requester", None) or CustomerFactory()
    with live():
        ticket = make_ticket(requester=requester, **{**BILLING_TEXT, **kwargs})
    return Ticket.objects.get(pk=ticket.pk)


def test_a_ticket_created_through_the_api_gets_stored_suggestions(trained, live):
    customer = CustomerFactory()
    with live():
        response = ApiClient(token_for(customer)).post("/tickets", {"subject": BILLING_TEXT["subject"], "body": BILLING_TEXT["body"]})
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])

    found = {p.field: p for p in Prediction.objects.filter(ticket=ticket)}
    assert set(found) == {"team", "category", "urgency", "custom:product"}
    assert found["team"].value == str(trained["teams"]["Billing"].pk)
    assert found["custom:product"].value == "payments"
    assert all(p.model_version == 1 and 0 < p.confidence <= 1 for p in found.values())
    assert ticket.team_id is None  # auto-apply is off by default: suggestions only


def test_a_ticket_created_from_an_email_gets_stored_suggestions(trained, live):
    Mailbox.objects.create(name="Support", address="support@atende.test")
    with live():
        row, _created = inbound_store(raw=make_raw(subject="Refund for last month", body="Please refund last month, invoice amount is wrong."),
                                      source="import")
        row = inbound_process(inbound_id=row.pk)

    predictions = Prediction.objects.filter(ticket_id=row.ticket_id)
    assert predictions.get(field="team").value == str(trained["teams"]["Billing"].pk)


def test_auto_apply_above_the_threshold_sets_the_team_before_routing_assigns(trained, live):
    billing = trained["teams"]["Billing"]
    agent = AgentFactory(availability="online")
    billing.members.add(agent)
    team_set_assignment(team=billing, strategy="round_robin", reassign_when_offline=False, actor=Actor.system())
    FieldSetting.objects.create(field="team", auto_apply=True, threshold=0.5)

    ticket = _new_ticket(live)

    assert ticket.team_id == billing.pk
    assert ticket.assignee_id == agent.pk  # the team's assignment strategy ran on the applied team
    event = TicketEvent.objects.get(ticket=ticket, type=E.TEAM_CHANGED)
    assert event.actor_kind == "automation"
    prediction = Prediction.objects.get(ticket=ticket, field="team")
    assert event.data["triage"] == {"model_version": 1, "confidence": {"team": round(prediction.confidence, 2)}}
    assert prediction.applied_by == AppliedBy.AUTOMATION and prediction.applied_at is not None


def test_below_the_threshold_nothing_is_applied(trained, live):
    FieldSetting.objects.create(field="team", auto_apply=True, threshold=0.95)

    # Words of two teams: the model is unsure.
    ticket = _new_ticket(live, subject="Charged twice and the vpn does not connect",
                         body="Charged twice on my card, and the vpn does not connect, wifi keeps dropping.")

    prediction = Prediction.objects.get(ticket=ticket, field="team")
    assert prediction.confidence < 0.95
    assert ticket.team_id is None
    assert prediction.applied_by == AppliedBy.NOBODY
    assert not TicketEvent.objects.filter(ticket=ticket, type=E.TEAM_CHANGED).exists()


def test_auto_apply_of_urgency_recomputes_the_priority_and_leaves_a_set_team_alone(trained, live):
    network = trained["teams"]["Network"]
    FieldSetting.objects.create(field="urgency", auto_apply=True, threshold=0.5)
    FieldSetting.objects.create(field="team", auto_apply=True, threshold=0.5)

    ticket = _new_ticket(live, subject="Charged twice", body="Charged twice on my card. This is urgent, everything is stopped.",
                         team=network, actor=Actor.system())

    assert ticket.team_id == network.pk  # a team set at creation is never replaced by a suggestion
    assert ticket.urgency == "high"
    fields_event = TicketEvent.objects.get(ticket=ticket, type=E.FIELDS_CHANGED)
    assert fields_event.data["new"] == {"urgency": "high"} and fields_event.data["triage"]["model_version"] == 1


def test_an_agents_change_away_from_the_suggestion_is_recorded(trained, live):
    agent = trained["agent"]
    ticket = _new_ticket(live)
    with live():
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"team": trained["teams"]["Network"]})

    prediction = Prediction.objects.get(ticket=ticket, field="team")
    assert prediction.overridden_value == str(trained["teams"]["Network"].pk)
    assert prediction.overridden_by == agent and prediction.overridden_at is not None
    untouched = Prediction.objects.get(ticket=ticket, field="category")
    assert untouched.overridden_at is None


def test_automation_changes_and_setting_the_suggested_value_are_not_corrections(trained, live):
    ticket = _new_ticket(live)
    billing = trained["teams"]["Billing"]
    with live():
        ticket_update(ticket=ticket, actor=Actor.automation(), changes={"team": trained["teams"]["Access"]})
        ticket_update(ticket=ticket, actor=Actor.for_user(trained["agent"]), changes={"team": billing})

    assert Prediction.objects.get(ticket=ticket, field="team").overridden_at is None


def test_corrections_ignore_events_of_other_kinds_and_tickets_without_suggestions(trained):
    events = [{"type": "REPLY_ADDED", "actor_kind": "agent", "ticket_id": 1, "data": {}},
              {"type": "TEAM_CHANGED", "actor_kind": "agent", "ticket_id": 10**9, "data": {"new": {"id": 1}}},
              {"type": "FIELDS_CHANGED", "actor_kind": "agent", "ticket_id": 10**9, "data": {}}]
    assert triage_record_corrections(events=events, actor=Actor.system()) == 0


def test_predicting_twice_stores_nothing_new(trained, live):
    ticket = _new_ticket(live)
    before = list(Prediction.objects.filter(ticket=ticket).values_list("pk", flat=True))

    assert triage_predict_for_tickets(ticket_ids=[ticket.pk, ticket.pk], actor=Actor.automation()) == {}
    assert list(Prediction.objects.filter(ticket=ticket).values_list("pk", flat=True)) == before


def test_without_a_model_tickets_are_created_without_suggestions(db, live):
    ticket = _new_ticket(live)

    assert ticket.pk and not Prediction.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("damage", ["missing", "altered", "empty"])
def test_a_broken_model_file_never_breaks_ticket_creation(trained, live, damage, caplog):
    path = model_path(TriageModel.objects.get().file_name)
    if damage == "missing":
        path.unlink()
    elif damage == "altered":
        path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    else:
        path.write_bytes(b"")
    forget_loaded_model()

    with caplog.at_level(logging.ERROR, logger="atende.triage.predictions"):
        ticket = _new_ticket(live)

    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert not Prediction.objects.filter(ticket=ticket).exists()
    assert "unusable" in caplog.text


@pytest.mark.parametrize("subject,body", [(".", "."), ("x" * 255, "y" * 200_000), ("\x00\ufeffHelp", "\u202e" * 50),
                                          ("???", "🙂" * 1000)])
def test_empty_huge_and_odd_texts_still_create_the_ticket(trained, live, subject, body):
    ticket = _new_ticket(live, subject=subject or "(no subject)", body=body)

    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert all(0 <= p.confidence <= 1 for p in Prediction.objects.filter(ticket=ticket))


def test_a_suggested_team_removed_meanwhile_is_not_stored(trained, live):
    trained["teams"]["Billing"].delete()

    ticket = _new_ticket(live)

    assert not Prediction.objects.filter(ticket=ticket, field="team").exists()
    assert Prediction.objects.filter(ticket=ticket, field="category").exists()

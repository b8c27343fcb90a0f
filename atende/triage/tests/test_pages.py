"""The triage pages: the ticket sidebar (suggestions and one-click apply, similar tickets within what the agent
may see, the near-duplicate flag and its merge), recurring problems, and the admin page."""

import datetime

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AdminFactory, AgentFactory, CollaboratorFactory, CustomerFactory
from atende.core.actor import Actor
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket
from atende.triage.models import AppliedBy, FieldSetting, PredictableField, Prediction
from atende.triage.services import triage_retrain_if_due, triage_train
from atende.triage.tests.conftest import solve


@pytest.fixture
def trained(desk):
    triage_train(actor=Actor.system())
    return desk


@pytest.fixture
def live(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _billing_ticket(live, requester=None, **kwargs):
    with live():
        ticket = make_ticket(requester=requester or CustomerFactory(), subject="Charged twice on my card",
                             body="Hello, charged twice on my card since this morning.", **kwargs)
    return Ticket.objects.get(pk=ticket.pk)


def _sidebar(client, ticket):
    return client.get(f"/console/triage/tickets/{ticket.number}/", HTTP_HX_REQUEST="true")


def test_the_sidebar_shows_each_suggestion_with_its_confidence_and_an_apply_button(trained, live, client):
    ticket = _billing_ticket(live)
    client.force_login(trained["agent"])

    html = _sidebar(client, ticket).content.decode()

    assert 'data-suggestion="team"' in html and "Billing" in html
    assert 'data-suggestion="custom:product"' in html
    assert f"/console/triage/tickets/{ticket.number}/apply/team/" in html
    percent = round(Prediction.objects.get(ticket=ticket, field="team").confidence * 100)
    assert f"{percent}%" in html


def test_the_ticket_page_loads_the_sidebar(trained, live, client):
    ticket = _billing_ticket(live)
    client.force_login(trained["agent"])

    html = client.get(f"/console/tickets/{ticket.number}/").content.decode()

    assert f'hx-get="/console/triage/tickets/{ticket.number}/"' in html


def test_one_click_apply_sets_the_value_and_the_history_names_the_model(trained, live, client):
    ticket = _billing_ticket(live)
    client.force_login(trained["agent"])

    with live():
        response = client.post(f"/console/triage/tickets/{ticket.number}/apply/team/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "atende:panel-refresh" in response["HX-Trigger"]
    ticket.refresh_from_db()
    assert ticket.team == trained["teams"]["Billing"]
    prediction = Prediction.objects.get(ticket=ticket, field="team")
    assert prediction.applied_by == AppliedBy.AGENT and prediction.overridden_at is None
    event = TicketEvent.objects.get(ticket=ticket, type="TEAM_CHANGED")
    assert event.actor_user == trained["agent"] and event.data["triage"]["model_version"] == 1
    timeline = client.get(f"/console/tickets/{ticket.number}/timeline/").content.decode()
    assert "triage model v1" in timeline
    assert "/apply/team/" not in response.content.decode()  # applied: no button any more


def test_collaborators_see_suggestions_but_cannot_apply_them(trained, live, client):
    ticket = _billing_ticket(live)
    collaborator = CollaboratorFactory()
    Ticket.objects.filter(pk=ticket.pk).update(team=trained["teams"]["Access"])
    trained["teams"]["Access"].members.add(collaborator)
    client.force_login(collaborator)

    assert "/apply/" not in _sidebar(client, ticket).content.decode()
    client.post(f"/console/triage/tickets/{ticket.number}/apply/category/", HTTP_HX_REQUEST="true")
    ticket.refresh_from_db()
    assert ticket.category_id is None


@pytest.mark.parametrize("who", ["customer", "anonymous"])
def test_people_outside_the_console_get_nothing(trained, live, client, who):
    ticket = _billing_ticket(live)
    if who == "customer":
        client.force_login(ticket.requester)
    response = client.post(f"/console/triage/tickets/{ticket.number}/apply/team/")
    assert response.status_code in (302, 404)
    assert _sidebar(client, ticket).status_code in (302, 404)
    ticket.refresh_from_db()
    assert ticket.team_id is None


def test_similar_tickets_list_only_what_the_agent_may_see(trained, live, client):
    network_only = AgentFactory(restrict_to_teams=True)
    trained["teams"]["Network"].members.add(network_only)
    ticket = _billing_ticket(live, team=trained["teams"]["Network"], actor=Actor.system())

    client.force_login(trained["agent"])
    everyone = _sidebar(client, ticket).content.decode()
    client.force_login(network_only)
    restricted = _sidebar(client, ticket).content.decode()

    billing_numbers = set(Ticket.objects.filter(team=trained["teams"]["Billing"]).values_list("number", flat=True))
    shown_to_all = {n for n in billing_numbers if f'data-similar="{n}"' in everyone}
    assert len(shown_to_all) == 5  # the five most similar are all Billing tickets
    assert not any(f'data-similar="{n}"' in restricted for n in billing_numbers)


def test_a_near_duplicate_from_the_same_customer_is_flagged_and_merged_in_one_click(trained, live, client):
    customer = CustomerFactory()
    first = _billing_ticket(live, requester=customer)
    second = _billing_ticket(live, requester=customer)
    other_customer = _billing_ticket(live)
    client.force_login(trained["agent"])

    html = _sidebar(client, second).content.decode()
    assert f'data-duplicate="{first.number}"' in html
    assert "data-duplicate" not in _sidebar(client, other_customer).content.decode()
    assert "data-duplicate" not in _sidebar(client, first).content.decode()  # only earlier tickets

    with live():
        response = client.post(f"/console/triage/tickets/{second.number}/merge/{first.number}/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/console/tickets/{first.number}/"
    second.refresh_from_db()
    assert second.merged_into_id == first.pk and second.status == TicketStatus.CLOSED


def test_a_day_later_the_same_text_is_not_a_duplicate(trained, live, client):
    customer = CustomerFactory()
    _billing_ticket(live, requester=customer, created_at=timezone.now() - datetime.timedelta(hours=30))
    later = _billing_ticket(live, requester=customer)
    client.force_login(trained["agent"])

    assert "data-duplicate" not in _sidebar(client, later).content.decode()


def test_recurring_problems_page_groups_recent_tickets_with_links(trained, live, client):
    tickets = [_billing_ticket(live) for _ in range(4)]
    client.force_login(trained["agent"])

    html = client.get("/console/triage/topics/?days=7").content.decode()

    assert "data-topic" in html and "charged" in html
    assert all(f"/console/tickets/{t.number}/" in html for t in tickets)


def test_the_admin_page_shows_the_model_and_saves_auto_apply(trained, client):
    admin = AdminFactory()
    client.force_login(trained["agent"])
    assert client.get("/console/triage/").status_code == 404
    client.force_login(admin)

    html = client.get("/console/triage/").content.decode()
    assert "v1" in html and 'data-field="team"' in html and "120" in html

    client.post("/console/triage/fields/team/", {"team-auto_apply": "on", "team-threshold": "0.85"})
    setting = FieldSetting.objects.get(field="team")
    assert (setting.auto_apply, setting.threshold) == (True, 0.85)
    client.post("/console/triage/fields/team/", {"team-threshold": "0.2"})  # out of range: refused
    assert FieldSetting.objects.get(field="team").threshold == 0.85
    client.post("/console/triage/predictable-fields/", {})
    assert not PredictableField.objects.exists()


def test_the_admin_page_reports_how_often_suggestions_were_right(trained, live, client):
    right = _billing_ticket(live)
    corrected = _billing_ticket(live)
    agent = trained["agent"]
    from atende.tickets.services import ticket_update

    with live():
        ticket_update(ticket=right, actor=Actor.for_user(agent), changes={"team": trained["teams"]["Billing"]})
        ticket_update(ticket=corrected, actor=Actor.for_user(agent), changes={"team": trained["teams"]["Network"]})
        solve(Ticket.objects.get(pk=right.pk), agent)
        solve(Ticket.objects.get(pk=corrected.pk), agent)
    client.force_login(AdminFactory())

    from atende.triage.selectors import suggestion_accuracy

    team = [row for row in suggestion_accuracy() if row["field"] == "team"]
    assert [(r["total"], r["right"], r["corrected"]) for r in team] == [(2, 1, 1)]
    assert "triage-accuracy" in client.get("/console/triage/").content.decode()


def test_the_nightly_retrain_runs_only_in_its_hour_and_with_enough_new_tickets(trained, settings):
    settings.TRIAGE_RETRAIN_HOUR = 2
    settings.TRIAGE_RETRAIN_MIN_NEW = 3
    night = timezone.localtime().replace(hour=2, minute=5) + datetime.timedelta(days=2)

    assert triage_retrain_if_due(actor=Actor.system(), now=night.replace(hour=14))["reason"] == "not_the_hour"
    assert triage_retrain_if_due(actor=Actor.system(), now=night)["reason"] == "few_new_tickets"
    for ticket in trained["tickets"][:3]:
        Ticket.objects.filter(pk=ticket.pk).update(closed_at=night - datetime.timedelta(hours=1))
    done = triage_retrain_if_due(actor=Actor.system(), now=night)
    assert done["trained"] is True and done["version"] == 2

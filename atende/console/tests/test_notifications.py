"""The notifications bell: which committed events notify whom (mentions, assignments, customer replies on my
tickets, SLA warnings and breaches), never the agent who acted nor anyone who may not see the ticket, at most once
per event; written by an events subscriber, so no push is needed; the bell's count, the list, marking read, and
the @-mention suggestions."""

import datetime as dt

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.console.models import Notification
from atende.console.subscribers import bell_on_events
from atende.core.actor import Actor
from atende.core.outbox.dispatch import payload_of
from atende.core.outbox.drain import drain
from atende.sla.services.clocks import sla_check_due
from atende.sla.services.definitions import policy_save
from atende.tickets.models import TicketEvent
from atende.tickets.services import message_add_note, message_add_reply, ticket_assign
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def desk(db, team, customer):
    author = AgentFactory(name="Ana Author", email="ana@support.example")
    mentioned = AgentFactory(name="Bia Buddy", email="bia@support.example")
    outsider = AgentFactory(name="Caio Outside", email="caio@support.example", restrict_to_teams=True)
    TeamFactory().members.add(outsider)
    team.members.add(author, mentioned)
    ticket = make_ticket(requester=customer, actor=Actor.for_user(author), team=team, subject="Printer on fire")
    return author, mentioned, outsider, ticket


def _notifications(user):
    return list(Notification.objects.filter(recipient=user).values_list("kind", "ticket_id", "actor_id"))


@pytest.mark.django_db(transaction=True)
def test_a_mention_in_a_note_notifies_the_agent_once(desk):
    author, mentioned, outsider, ticket = desk
    message_add_note(ticket=ticket, actor=Actor.for_user(author),
                     body_text="@bia@support.example @ana@support.example @caio@support.example have a look")
    assert _notifications(mentioned) == [("mention", ticket.pk, author.pk)]
    assert _notifications(author) == []  # not for mentioning oneself
    assert _notifications(outsider) == []  # restricted to other teams: the mention does not reveal the ticket
    assert Notification.objects.filter(recipient=mentioned).count() == 1


def _batch(ticket):
    """The events of ``ticket`` as the dispatcher hands them to a subscriber."""
    return [payload_of(row) for row in TicketEvent.objects.filter(ticket=ticket).order_by("id").values(
        "id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")]


@pytest.mark.django_db(transaction=True)
def test_the_bell_is_filled_by_draining_events_even_when_no_push_ran(desk, settings):
    author, mentioned, _, ticket = desk
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_DISABLED = True  # the on-commit push never runs (as if the process died after commit)
    message_add_note(ticket=ticket, actor=Actor.for_user(author), body_text="@bia@support.example look")
    assert _notifications(mentioned) == []
    drain(jobs=False)  # the worker, later
    assert _notifications(mentioned) == [("mention", ticket.pk, author.pk)]


@pytest.mark.django_db(transaction=True)
def test_a_batch_handed_over_twice_adds_no_duplicates(desk, team, customer):
    author, mentioned, _, ticket = desk
    ticket_assign(ticket=ticket, actor=Actor.for_user(author), team=team, assignee=mentioned)
    ticket.refresh_from_db()
    message_add_note(ticket=ticket, actor=Actor.for_user(author), body_text="@bia@support.example look")
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Any news?")
    expected = sorted(_notifications(mentioned))
    assert [k for k, *_ in expected] == ["assigned", "customer_replied", "mention"]
    batch = _batch(ticket)
    bell_on_events(batch)
    bell_on_events(batch)
    assert sorted(_notifications(mentioned)) == expected


@pytest.mark.django_db(transaction=True)
def test_a_week_old_event_handed_over_late_makes_no_bell_line(desk):
    author, mentioned, _, ticket = desk
    message_add_note(ticket=ticket, actor=Actor.for_user(author), body_text="@bia@support.example look")
    Notification.objects.all().delete()
    batch = _batch(ticket)
    bell_on_events([{**e, "created_at": (timezone.now() - dt.timedelta(days=7)).isoformat()} for e in batch])
    assert _notifications(mentioned) == []
    bell_on_events(batch)
    assert _notifications(mentioned) == [("mention", ticket.pk, author.pk)]


@pytest.fixture
def urgent_policy(db):
    return policy_save(name="Urgent", conditions={"all": [{"field": "priority", "op": "in", "value": ["urgent"]}]},
                       first_reply_minutes=60, next_reply_minutes=30, resolution_minutes=480,
                       business_hours=False, warn_before_minutes=15)


@pytest.mark.django_db(transaction=True)
def test_sla_warning_and_breach_reach_the_assignee_only(desk, team, customer, urgent_policy):
    author, mentioned, outsider, _ = desk
    ticket = make_ticket(requester=customer, actor=Actor.for_user(author), team=team, priority="urgent")
    ticket_assign(ticket=ticket, actor=Actor.for_user(author), team=team, assignee=mentioned)
    start = timezone.now()
    assert sla_check_due(now=start + dt.timedelta(minutes=50))["warnings"] == 1
    assert _notifications(mentioned) == [("sla_warning", ticket.pk, None), ("assigned", ticket.pk, author.pk)]
    assert sla_check_due(now=start + dt.timedelta(minutes=70))["breaches"] == 1
    assert _notifications(mentioned)[0] == ("sla_breached", ticket.pk, None)
    assert _notifications(author) == [] and _notifications(outsider) == []


@pytest.mark.django_db(transaction=True)
def test_sla_warning_on_an_unassigned_ticket_reaches_its_team(client, desk, team, customer, urgent_policy):
    author, mentioned, outsider, _ = desk
    ticket = make_ticket(requester=customer, actor=Actor.for_user(author), team=team, priority="urgent")
    assert sla_check_due(now=timezone.now() + dt.timedelta(minutes=50))["warnings"] == 1
    assert _notifications(author) == _notifications(mentioned) == [("sla_warning", ticket.pk, None)]
    assert _notifications(outsider) == []
    client.force_login(mentioned)
    page = client.get("/console/notifications/").content.decode()
    assert f"SLA target close to breach</span> · #{ticket.number}" in page


@pytest.mark.django_db(transaction=True)
def test_an_assignment_notifies_the_new_assignee_unless_they_took_it(desk, team):
    author, mentioned, _, ticket = desk
    ticket_assign(ticket=ticket, actor=Actor.for_user(author), team=team, assignee=mentioned)
    assert _notifications(mentioned) == [("assigned", ticket.pk, author.pk)]
    ticket.refresh_from_db()
    ticket_assign(ticket=ticket, actor=Actor.for_user(author), team=team, assignee=author)
    assert _notifications(author) == []


@pytest.mark.django_db(transaction=True)
def test_a_customer_reply_notifies_the_assignee(desk, team, customer):
    author, mentioned, _, ticket = desk
    ticket_assign(ticket=ticket, actor=Actor.for_user(author), team=team, assignee=mentioned)
    ticket.refresh_from_db()
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Still burning")
    assert ("customer_replied", ticket.pk, customer.pk) in _notifications(mentioned)
    message_add_reply(ticket=ticket, actor=Actor.for_user(mentioned), body_text="On my way")  # their own reply
    assert len(_notifications(mentioned)) == 2


@pytest.mark.django_db(transaction=True)
def test_bell_counts_unread_and_reading_clears_it(client, desk):
    author, mentioned, _, ticket = desk
    for text in ("@bia@support.example one", "@bia@support.example two"):
        message_add_note(ticket=ticket, actor=Actor.for_user(author), body_text=text)
    client.force_login(mentioned)
    bell = client.get("/console/notifications/bell/").content.decode()
    assert 'data-unread="2"' in bell and "Notifications: 2 unread" in bell
    page = client.get("/console/notifications/").content.decode()
    assert page.count('class="unread"') == 2 and "Ana Author · mentioned you in a note · #" in page
    first = Notification.objects.filter(recipient=mentioned).first()
    response = client.post(f"/console/notifications/{first.pk}/read/", {"ticket": ticket.number})
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket.number}/"
    assert 'data-unread="1"' in client.get("/console/notifications/bell/").content.decode()
    client.post("/console/notifications/read/")
    assert "data-unread" not in client.get("/console/notifications/bell/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_nobody_reads_or_clears_someone_elses_notifications(client, desk):
    author, mentioned, _, ticket = desk
    message_add_note(ticket=ticket, actor=Actor.for_user(author), body_text="@bia@support.example look")
    notification = Notification.objects.get(recipient=mentioned)
    client.force_login(author)
    client.post(f"/console/notifications/{notification.pk}/read/", {"ticket": ticket.number})
    client.post("/console/notifications/read/")
    notification.refresh_from_db()
    assert notification.read_at is None
    assert "look" not in client.get("/console/notifications/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_customers_and_strangers_get_no_bell_nor_agent_list(client, who):
    AgentFactory(name="Bia Buddy")
    if who == "customer":
        client.force_login(CustomerFactory())
    for url in ("/console/notifications/", "/console/notifications/bell/", "/console/mentions/agents/?q=b"):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert b"Bia" not in response.content


@pytest.mark.django_db
def test_mention_suggestions_list_active_agents_by_name_or_email(client):
    me = AgentFactory(name="Ana Author", email="ana@support.example")
    AgentFactory(name="Bia Buddy", email="bia@support.example")
    AgentFactory(name="Bruno Bold", email="bruno@support.example", is_active=False)
    CustomerFactory(name="Bianca Customer")
    client.force_login(me)
    agents = client.get("/console/mentions/agents/?q=bi").json()["agents"]
    assert agents == [{"email": "bia@support.example", "name": "Bia Buddy"}]
    assert [a["name"] for a in client.get("/console/mentions/agents/?q=buddy").json()["agents"]] == ["Bia Buddy"]

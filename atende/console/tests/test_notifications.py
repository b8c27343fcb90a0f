"""The notifications bell: which committed events notify whom (mentions, assignments, customer replies on my
tickets), never the agent who acted nor anyone who may not see the ticket, at most once per event; the bell's
count, the list, marking read, and the @-mention suggestions."""

import pytest

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.console.models import Notification
from atende.console.services import notifications_record_for_event
from atende.core.actor import Actor
from atende.tickets.models import TicketEvent
from atende.tickets.services import message_add_note, message_add_reply, ticket_assign
from atende.tickets.services._common import event_payload
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
    event = TicketEvent.objects.filter(ticket=ticket, type="NOTE_ADDED").latest("id")
    assert notifications_record_for_event(payload=event_payload(event, ticket)) == []  # replayed: nothing new
    assert Notification.objects.filter(recipient=mentioned).count() == 1


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

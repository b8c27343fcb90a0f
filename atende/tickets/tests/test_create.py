"""``ticket_create``: the one path every channel uses. Bad input raises a clear error and writes nothing."""

import pytest

from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.core.testing.generations import another_process_commits, commit_generation_changes
from atende.tickets.choices import TicketEventType, TicketPriority, TicketStatus
from atende.tickets.models import TICKET_SETTINGS, Message, Ticket, TicketEvent, TicketFollower, TicketSettings
from atende.tickets.services import ticket_create
from atende.tickets.tests.factories import CategoryFactory
from atende.tickets.tests.helpers import event_rows

pytestmark = pytest.mark.django_db


def test_create_writes_ticket_message_and_event(customer, team, delivered_events,
                                                django_capture_on_commit_callbacks):
    category = CategoryFactory(default_team=team)
    cc = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="  Printer   jammed ",
                               body_text="Paper stuck in tray 2", channel="email", category=category,
                               tags=["Printer", "printer", "Tray 2"], followers=[cc, customer])

    row = Ticket.objects.get(pk=ticket.pk)
    assert row.number == row.pk  # the public #N
    assert row.subject == "Printer jammed" and row.status == TicketStatus.NEW and row.channel == "email"
    assert row.team == team  # from the category's default team
    assert row.organization_id == customer.organization_id
    assert row.version == 1 and row.reply_token
    assert sorted(row.tags.values_list("name", flat=True)) == ["printer", "tray-2"]
    assert list(TicketFollower.objects.filter(ticket=row).values_list("user_id", flat=True)) == [cc.pk]
    message = Message.objects.get(ticket=row)
    assert (message.kind, message.author, message.author_kind) == ("reply", customer, "customer")
    assert ticket.first_message.pk == message.pk
    assert row.last_customer_reply_at == message.created_at
    (created,) = event_rows(row)
    assert created.type == TicketEventType.TICKET_CREATED and created.actor_kind == "customer"
    assert created.data["message_id"] == message.pk and created.data["tags"] == ["printer", "tray-2"]
    assert created.data["team"] == {"id": team.pk, "name": team.name}
    assert len(callbacks) == 1 and delivered_events[0]["ticket_number"] == row.number


def test_numbers_are_unique_and_increasing(customer):
    numbers = [ticket_create(actor=Actor.for_user(customer), requester=customer, subject=f"S{i}",
                             body_text="b").number for i in range(3)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


@pytest.mark.django_db(transaction=True)
def test_numbers_are_ids_and_never_reused(customer):
    """A ticket's number is its id, written with the row, also outside any caller's transaction; the number of
    a deleted newest ticket is not handed out again."""
    def create(subject):
        return ticket_create(actor=Actor.for_user(customer), requester=customer, subject=subject, body_text="b")

    first, last = create("first"), create("last")
    Ticket.objects.filter(pk=last.pk).delete()
    after = create("after")
    rows = dict(Ticket.objects.values_list("pk", "number"))
    assert rows == {first.pk: first.number, after.pk: after.number}
    assert first.number == first.pk and after.number == after.pk > last.pk


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"subject": "   "}, "subject_required"),
    ({"body_text": ""}, "description_required"),
    ({"channel": "fax"}, "unknown_channel"),
    ({"type": "bug"}, "unknown_type"),
    ({"urgency": "extreme"}, "unknown_urgency"),
    ({"impact": "huge"}, "unknown_impact"),
    ({"priority": "critical"}, "unknown_priority"),
    ({"status": "solved"}, "invalid_initial_status"),
    ({"custom_fields": {"nope": 1}}, "invalid_custom_fields"),
])
def test_bad_input_raises_and_writes_nothing(kwargs, code, customer, agent):
    args = {"actor": Actor.for_user(agent), "requester": customer, "subject": "Hi", "body_text": "Body", **kwargs}
    with pytest.raises(ValidationError) as info:
        ticket_create(**args)
    assert info.value.code == code and info.value.status == 422
    assert not Ticket.objects.exists() and not Message.objects.exists() and not TicketEvent.objects.exists()


def test_customers_cannot_set_agent_only_fields(customer, agent):
    with pytest.raises(ValidationError) as info:
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Hi", body_text="b",
                      priority="urgent")
    assert info.value.code == "forbidden_fields"
    assert not Ticket.objects.exists()


def test_only_active_agents_can_be_assignees(customer, agent):
    inactive = AgentFactory(is_active=False)
    for assignee in (CustomerFactory(), inactive):
        with pytest.raises(ValidationError) as info:
            ticket_create(actor=Actor.for_user(agent), requester=customer, subject="Hi", body_text="b",
                          assignee=assignee)
        assert info.value.code == "assignee_not_agent"
    assert not Ticket.objects.exists()


def test_agent_logged_ticket_can_start_open_with_the_agent_as_author(customer, agent, team):
    ticket = ticket_create(actor=Actor.for_user(agent), requester=customer, subject="Call", body_text="Called in",
                           channel="phone", status="open", team=team, assignee=agent, first_message_by_agent=True)
    message = Message.objects.get(ticket=ticket)
    assert ticket.status == TicketStatus.OPEN and message.author == agent and message.author_kind == "agent"
    assert ticket.last_customer_reply_at is None


def test_a_settings_change_committed_elsewhere_applies_to_the_next_ticket(customer):
    """The settings row is kept per process: a change another process commits (the row written, then its token
    replaced) is read by the next ticket here; until the token changes, the copy is used."""
    make = lambda: ticket_create(actor=Actor.for_user(customer), requester=customer, subject="s",  # noqa: E731
                                 body_text="b", urgency="low", impact="low")
    assert make().priority == TicketPriority.LOW
    commit_generation_changes()
    TicketSettings.objects.update_or_create(pk=1, defaults={"priority_matrix": {"low": {"low": "urgent"}}})
    assert make().priority == TicketPriority.LOW  # the copy: no other process has said anything yet
    another_process_commits(TICKET_SETTINGS)
    assert make().priority == TicketPriority.URGENT


def test_html_body_is_sanitised_and_text_extracted(customer):
    ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Hi",
                           body_html='<p>Hello <script>alert(1)</script><b>there</b></p><img src="https://t.example/p.gif">')
    message = Message.objects.get(ticket=ticket)
    assert "<script>" not in message.body_html and "<b>there</b>" in message.body_html
    # A remote image (a tracking pixel) is never fetched by the browser: its address waits in data-remote-src.
    assert message.body_html.endswith('<img data-remote-src="https://t.example/p.gif">')
    assert message.body_text.startswith("Hello")


@pytest.mark.parametrize("with_relations", [False, True])
def test_a_ticket_is_written_in_four_statements_and_found_by_search(customer, team, with_relations):
    """The write path's cost per ticket, in a process that has created one before: the ticket with its number, the
    message, the event and the search row, and nothing else. The settings row is the process's copy (no read),
    the service opens no savepoint of its own inside a caller's transaction (here the test's), the ticket row is
    written once (no UPDATE for its number), a new ticket has no index row to delete first, the index needs no
    savepoint of its own, and the related rows passed in (the requester's organization, a team, a category, an
    assignee) are not looked up again to validate them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atende.tickets.search import search_tickets

    ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Warm-up", body_text="First one")
    agent = AgentFactory()
    related = {"team": team, "category": CategoryFactory(), "assignee": agent} if with_relations else {}
    actor = Actor.for_user(agent if with_relations else customer)
    assert customer.organization_id
    commit_generation_changes()
    with CaptureQueriesContext(connection) as queries:
        ticket = ticket_create(actor=actor, requester=customer, subject="Scanner offline",
                               body_text="The zebrafinch scanner is offline since noon", **related)
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # PostgreSQL draws the id from its sequence first (a SELECT nextval), and SQLite computes it in the INSERT.
    expected = ["INSERT"] * 4 if connection.vendor == "sqlite" else ["SELECT"] + ["INSERT"] * 4
    assert statements == expected, [q["sql"][:300] for q in queries.captured_queries]
    assert ticket.number == ticket.pk == Ticket.objects.values_list("number", flat=True).get(pk=ticket.pk)
    hits = search_tickets(user=agent, query="zebrafinch").items
    assert [hit.ticket.pk for hit in hits] == [ticket.pk]


def test_the_ticket_and_message_rows_are_built_before_the_transaction(customer, monkeypatch):
    """Inside the transaction (on SQLite the one writers' turn) the ticket's and the first message's INSERTs only
    run: their SQL and values were built before it started."""
    from django.db import connection

    ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Warm-up", body_text="First one")
    compiler = connection.ops.compiler("SQLInsertCompiler")
    seen = []
    as_sql = compiler.as_sql

    def building(self, *args, **kwargs):
        seen.append(("built", self.query.model.__name__))
        return as_sql(self, *args, **kwargs)

    def running(execute, sql, params, many, context):
        seen.append(("ran", sql.split()[2].strip('"')) if sql.startswith("INSERT") else ("ran", sql.split()[0]))
        return execute(sql, params, many, context)

    monkeypatch.setattr(compiler, "as_sql", building)
    with connection.execute_wrapper(running):
        ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Scanner offline",
                               body_text="Since noon")
    first_run = next(i for i, (what, name) in enumerate(seen) if what == "ran" and name.startswith("tickets_"))
    assert {"Ticket", "Message"} <= {name for what, name in seen[:first_run] if what == "built"}, seen
    # PostgreSQL reads the number from its sequence first (no writers' turn there to keep short).
    ran = [name for what, name in seen if what == "ran" and name != "SELECT"]
    assert ran[:2] == ["tickets_ticket", "tickets_message"], seen
    assert ticket.first_message.ticket_id == ticket.pk == ticket.number
    assert Message.objects.get(pk=ticket.first_message.pk).ticket_id == ticket.pk

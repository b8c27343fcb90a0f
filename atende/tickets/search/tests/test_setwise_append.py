"""The messages a set of changes adds to many tickets are appended to the index with one statement for the set,
and the index ends up exactly as with one statement per message (same rows, same search results)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.tickets.choices import TicketStatus
from atende.tickets.search import search_tickets
from atende.tickets.services import TicketChanges
from atende.tickets.tests.factories import make_ticket
from atende.tickets.tests.helpers import drive_to

LINES = ["Printer okapi jams again", "Have you tried the narwhal tray", "Yes, still jammed", "Sending a technician"]


def _row(ticket) -> tuple:
    key = "ticket_id" if connection.vendor == "postgresql" else "rowid"
    extra = ", document::text" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body, notes{extra} FROM ticket_search WHERE {key} = %s", [ticket.pk])
        return cursor.fetchone()


def _index_writes(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "ticket_search" in q["sql"]
            and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]


def _open_tickets(agent, customer, n: int, subject: str) -> list:
    return [drive_to(make_ticket(actor=Actor.for_user(customer), requester=customer, subject=f"{subject} {k}",
                                 body=f"Opening words {k}"), TicketStatus.OPEN) for k in range(n)]


def _add(changes, ticket, n, agent, customer, k):
    """The n-th message of ticket k: replies from both sides, a note every third one."""
    if n % 3 == 2:
        changes.add_note(ticket, actor=Actor.for_user(agent), body_text=f"Remark {k}-{n} wombat")
    else:
        author = customer if n % 2 else agent
        changes.add_reply(ticket, actor=Actor.for_user(author), author=author, body_text=f"{LINES[n]} {k}")


def test_a_groups_replies_and_notes_on_many_tickets_take_one_index_statement(db, agent, customer):
    tickets = _open_tickets(agent, customer, 6, "Group")
    changes = TicketChanges(locked=True)
    for k, ticket in enumerate(tickets):
        _add(changes, ticket, 2 if k % 2 else 0, agent, customer, k)  # a note on half of them, a reply on the rest
    with CaptureQueriesContext(connection) as captured:
        changes.save()
    assert len(_index_writes(captured)) == 1  # was one per message
    assert _row(tickets[0])[:2] == ("Opening words 0\nPrinter okapi jams again 0", "")
    assert _row(tickets[1])[:2] == ("Opening words 1", "Remark 1-2 wombat")


def test_appending_a_group_at_once_leaves_the_index_as_one_message_at_a_time_does(db, agent, customer):
    together = _open_tickets(agent, customer, 4, "Together")
    alone = _open_tickets(agent, customer, 4, "Together")  # the same texts, written message by message
    for n in range(4):
        changes = TicketChanges(locked=True)
        for k, ticket in enumerate(together):
            _add(changes, ticket, n, agent, customer, k)
        changes.save()
        for k, ticket in enumerate(alone):
            changes = TicketChanges(locked=True)
            _add(changes, ticket, n, agent, customer, k)
            changes.save()
    for a, b in zip(together, alone, strict=True):
        assert _row(a) == _row(b)
    for user in (agent, customer):
        for query in ("okapi", "narwhal tray", "wombat", '"still jammed"', "technician -okapi", "opening 2"):
            hits = {h.ticket.pk: (h.score, str(h.subject_html), str(h.snippet_html), h.snippet_source)
                    for h in search_tickets(user=user, query=query).items}
            for a, b in zip(together, alone, strict=True):
                assert hits.get(a.pk) == hits.get(b.pk), (user, query)
    assert {h.ticket.pk for h in search_tickets(user=agent, query="wombat").items} == \
        {t.pk for t in together + alone}
    assert search_tickets(user=customer, query="wombat").items == []  # notes stay out of customers' reach


def test_a_ticket_without_a_row_in_the_group_is_rebuilt_and_the_others_appended(db, agent, customer):
    tickets = _open_tickets(agent, customer, 3, "Mixed")
    with events_suppressed():  # loaded as history: no index row
        imported = drive_to(make_ticket(actor=Actor.for_user(agent), requester=customer, subject="Imported",
                                        body="Old capybara question"), TicketStatus.OPEN)
    assert _row(imported) is None
    changes = TicketChanges(locked=True)
    for k, ticket in enumerate([*tickets, imported]):
        changes.add_reply(ticket, actor=Actor.for_user(agent), author=agent, body_text=f"Answer {k}")
    changes.save()
    assert _row(imported)[:2] == ("Old capybara question\nAnswer 3", "")
    assert [_row(t)[:2] for t in tickets] == [(f"Opening words {k}\nAnswer {k}", "") for k in range(3)]
    assert [h.ticket.pk for h in search_tickets(user=agent, query="capybara").items] == [imported.pk]

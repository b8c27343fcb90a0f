"""A new reply or note is appended to its ticket's index row: the row is not rebuilt from the whole thread."""

from django.db import connection

from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Message
from atende.tickets.search import reindex_tickets, search_tickets
from atende.tickets.services import TicketChanges, message_add_note, message_add_reply
from atende.tickets.tests.factories import make_ticket
from atende.tickets.tests.helpers import drive_to


def _numbers(page):
    return [hit.ticket.number for hit in page.items]


def _row(ticket) -> tuple[str, str]:
    key = "ticket_id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body, notes FROM ticket_search WHERE {key} = %s", [ticket.pk])
        return cursor.fetchone()


def test_a_long_threads_row_holds_every_message_and_the_latest_is_found(db, agent, customer):
    ticket = make_ticket(actor=Actor.for_user(agent), requester=customer, subject="Long chat", body="Opening words")
    replies, notes = ["Opening words"], []
    for n in range(80):
        if n % 10 == 9:
            notes.append(f"Internal remark number{n}")
            message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text=notes[-1])
        else:
            author = customer if n % 2 else agent
            replies.append(f"Message word{n} from {author.name}")
            message_add_reply(ticket=ticket, actor=Actor.for_user(author), author=author, body_text=replies[-1])
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), author=customer, body_text="Latest: pangolin")
    replies.append("Latest: pangolin")

    assert _row(ticket) == ("\n".join(replies), "\n".join(notes))
    assert _numbers(search_tickets(user=agent, query="pangolin")) == [ticket.number]
    assert _numbers(search_tickets(user=customer, query="pangolin")) == [ticket.number]
    assert _numbers(search_tickets(user=agent, query="word0")) == [ticket.number]
    assert _numbers(search_tickets(user=agent, query="number79")) == [ticket.number]
    assert _numbers(search_tickets(user=customer, query="number79")) == []  # a note stays out of customers' reach
    appended = _row(ticket)
    reindex_tickets([ticket.pk])
    assert _row(ticket) == appended  # what a rebuild from every message holds


def test_a_new_message_does_not_read_the_thread_again(db, agent):
    actor = Actor.for_user(agent)
    ticket = make_ticket(actor=actor, subject="Printer", body="The okapi printer jams")
    Message.objects.filter(ticket=ticket).update(body_text="The printer jams")  # directly: the row keeps okapi
    message_add_reply(ticket=ticket, actor=actor, body_text="Try the narwhal tray")
    assert _numbers(search_tickets(user=agent, query="okapi")) == [ticket.number]
    assert _numbers(search_tickets(user=agent, query="narwhal")) == [ticket.number]
    reindex_tickets([ticket.pk])
    assert _numbers(search_tickets(user=agent, query="okapi")) == []
    assert _numbers(search_tickets(user=agent, query="narwhal")) == [ticket.number]


def test_a_ticket_without_a_row_gets_a_whole_one_with_its_next_message(db, agent):
    actor = Actor.for_user(agent)
    with events_suppressed():  # loaded as history: no index row
        ticket = make_ticket(actor=actor, subject="Imported capybara", body="Old question")
    assert _row(ticket) is None
    message_add_reply(ticket=ticket, actor=actor, body_text="New answer")
    assert _row(ticket) == ("Old question\nNew answer", "")
    assert _numbers(search_tickets(user=agent, query="capybara")) == [ticket.number]


def test_several_new_messages_of_one_ticket_are_appended_in_order(db, agent, customer):
    ticket = drive_to(make_ticket(actor=Actor.for_user(customer), requester=customer, subject="Chat", body="Hi"),
                      TicketStatus.OPEN)
    changes = TicketChanges(locked=True)
    for n, author in enumerate([customer, agent, customer, agent]):
        changes.add_reply(ticket, actor=Actor.for_user(author), author=author, body_text=f"Line {n}")
    changes.add_note(ticket, actor=Actor.for_user(agent), body_text="A remark")
    changes.save()
    assert _row(ticket) == ("Hi\nLine 0\nLine 1\nLine 2\nLine 3", "A remark")
    appended = _row(ticket)
    reindex_tickets([ticket.pk])
    assert _row(ticket) == appended


def test_a_ticket_without_a_row_gets_a_whole_one_with_its_next_messages(db, agent):
    actor = Actor.for_user(agent)
    with events_suppressed():  # loaded as history: no index row
        ticket = drive_to(make_ticket(actor=actor, subject="Imported capybara", body="Old question"),
                          TicketStatus.OPEN)
    assert _row(ticket) is None
    changes = TicketChanges(locked=True)
    changes.add_reply(ticket, actor=actor, author=agent, body_text="New answer")
    changes.add_reply(ticket, actor=actor, author=agent, body_text="And more")
    changes.save()
    assert _row(ticket) == ("Old question\nNew answer\nAnd more", "")

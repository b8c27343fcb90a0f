"""Optimistic concurrency with two real concurrent transactions on PostgreSQL (``select_for_update`` is a no-op on
SQLite, whose writers are serialised anyway).

Each worker runs in its own thread, hence its own database connection and transaction. The first holds the ticket's
row lock while the second starts from the same version it read; the second must wait for the lock, then see the
committed change and be refused with ``stale_version``: nothing is silently overwritten.
"""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from atende.core.actor import Actor
from atende.core.exceptions import Conflict
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_reply, ticket_set_tags, ticket_transition, ticket_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Worker(threading.Thread):
    """Runs ``fn`` in its own connection; with ``hold``, keeps the transaction open until ``release`` is set."""

    def __init__(self, fn, *, hold: bool = False):
        super().__init__(daemon=True)
        self.fn, self.hold = fn, hold
        self.locked, self.release = threading.Event(), threading.Event()
        self.result = self.error = None

    def run(self):
        try:
            with transaction.atomic():
                self.result = self.fn()
                self.locked.set()
                if self.hold:
                    assert self.release.wait(10), "the test never released the first transaction"
        except Exception as exc:  # handed to the test thread
            self.error = exc
        finally:
            self.locked.set()
            connection.close()
            close_old_connections()


def _run_pair(first_fn, second_fn):
    first = Worker(first_fn, hold=True)
    first.start()
    assert first.locked.wait(10)
    second = Worker(second_fn)
    second.start()
    second.join(1.0)
    waited = second.is_alive()  # blocked on the row lock the first transaction holds
    first.release.set()
    first.join(10)
    second.join(10)
    return first, second, waited


def test_stale_update_is_refused_not_overwritten(ticket, agent, other_agent):
    seen = ticket.version  # both agents loaded the ticket at this version
    first, second, waited = _run_pair(
        lambda: ticket_update(ticket=ticket, actor=Actor.for_user(agent), expected_version=seen,
                              changes={"subject": "Fixed by agent one"}),
        lambda: ticket_update(ticket=ticket, actor=Actor.for_user(other_agent), expected_version=seen,
                              changes={"subject": "Fixed by agent two"}),
    )
    assert first.error is None
    assert waited, "the second transaction did not wait for the first one's row lock"
    assert isinstance(second.error, Conflict) and second.error.code == "stale_version"
    assert second.error.details == {"expected_version": seen, "current_version": seen + 1}
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.subject == "Fixed by agent one" and row.version == seen + 1
    changes = TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.FIELDS_CHANGED)
    assert [e.actor_user_id for e in changes] == [agent.pk]


def test_concurrent_transitions_from_the_same_version_only_one_wins(ticket, agent, other_agent):
    seen = ticket.version
    first, second, waited = _run_pair(
        lambda: ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=Actor.for_user(agent),
                                  expected_version=seen),
        lambda: ticket_transition(ticket=ticket, to=TicketStatus.PENDING, actor=Actor.for_user(other_agent),
                                  expected_version=seen),
    )
    assert first.error is None and waited
    assert isinstance(second.error, Conflict) and second.error.code == "stale_version"
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.SOLVED
    assert TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.STATUS_CHANGED).count() == 1


def test_reply_against_a_stale_ticket_is_refused(ticket, agent, other_agent):
    seen = ticket.version
    first, second, waited = _run_pair(
        lambda: message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="First answer",
                                  expected_version=seen),
        lambda: message_add_reply(ticket=ticket, actor=Actor.for_user(other_agent), body_text="Second answer",
                                  expected_version=seen),
    )
    assert first.error is None and waited
    assert isinstance(second.error, Conflict) and second.error.code == "stale_version"
    assert list(ticket.messages.filter(author_kind="agent").values_list("body_text", flat=True)) == ["First answer"]


def test_changes_without_a_version_are_serialised_not_lost(ticket, agent, other_agent):
    first, second, waited = _run_pair(
        lambda: ticket_set_tags(ticket=ticket, actor=Actor.for_user(agent), add=["vpn"]),
        lambda: ticket_set_tags(ticket=ticket, actor=Actor.for_user(other_agent), add=["billing"]),
    )
    assert first.error is None and second.error is None and waited
    row = Ticket.objects.get(pk=ticket.pk)
    assert sorted(row.tags.values_list("name", flat=True)) == ["billing", "vpn"]
    assert row.version == ticket.version + 2
    added = [e.data["added"] for e in TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.TAGS_CHANGED)]
    assert added == [["vpn"], ["billing"]]

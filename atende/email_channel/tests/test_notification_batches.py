"""The notifications subscriber works set-wise: a batch's tickets, messages and users are read once, every mail is
rendered for its recipient, and the batch's mails go to the outbound queue in one insert, handed to the worker as
one task. A batch delivered again queues nothing more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.core.memo import batch_scope
from atende.core.models import SiteConfiguration
from atende.core.outbox.dispatch import payload_of
from atende.email_channel.models import EmailSettings, UndeliverableAddress
from atende.email_channel.subscribers import notify_on_events
from atende.outbound.models import Delivery
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

FIELDS = ("id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")


def payloads(tickets):
    return [payload_of(row) for row in
            TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(*FIELDS)]


def batch(count, team):
    """``count`` tickets from as many customers, every other one filed with the team by the desk; the first
    customer's address is undeliverable."""
    customers = [CustomerFactory() for _ in range(count)]
    UndeliverableAddress.objects.create(address=customers[0].email, kind="hard")
    tickets = [make_ticket(requester=c, team=team, actor=Actor.system()) if i % 2 else make_ticket(requester=c)
               for i, c in enumerate(customers)]
    return tickets, payloads(tickets)


def notify(events):
    with batch_scope(), CaptureQueriesContext(connection) as ctx:
        notify_on_events(events)
    return len(ctx.captured_queries)


def test_a_batch_of_twenty_costs_the_queries_of_a_batch_of_two(mailbox, team, agent):
    EmailSettings.load(), SiteConfiguration.load()  # the settings rows exist (a fresh database writes them once)
    few, few_events = batch(2, team)
    many, many_events = batch(20, team)
    assert notify(many_events) == notify(few_events)
    for tickets in (few, many):
        mails = Delivery.objects.filter(transport="mail", ticket_id__in=[t.pk for t in tickets])
        acknowledged = {d.ticket_id for d in mails.filter(kind="acknowledgement")}
        # Everyone but the undeliverable first customer hears back; the team hears of the tickets filed with it.
        assert acknowledged == {t.pk for t in tickets[1:]}
        assert {d.ticket_id for d in mails.filter(kind="team_new_ticket")} == {t.pk for t in tickets[1::2]}
        assert all(d.payload["to"] == [agent.email] for d in mails.filter(kind="team_new_ticket"))
        requesters = {t.pk: t.requester.email for t in tickets}
        assert all(d.payload["to"] == [requesters[d.ticket_id]] for d in mails.filter(kind="acknowledgement"))


def test_a_batch_goes_to_the_worker_as_one_task_and_a_replay_queues_nothing(
        mailbox, team, agent, django_capture_on_commit_callbacks):
    tickets, events = batch(6, team)
    with django_capture_on_commit_callbacks() as callbacks:
        notify(events)
    queued = set(Delivery.objects.filter(ticket_id__in=[t.pk for t in tickets]).values_list("pk", flat=True))
    sends = [c for c in callbacks if type(c).__name__ == "_SendAfterCommit"]
    assert len(sends) == 1 and set(sends[0].ids) == queued and len(queued) == 8  # 5 acknowledgements, 3 team mails
    with django_capture_on_commit_callbacks() as callbacks:
        notify(events)
    assert not [c for c in callbacks if type(c).__name__ == "_SendAfterCommit"]
    assert set(Delivery.objects.filter(ticket_id__in=[t.pk for t in tickets]).values_list("pk", flat=True)) == queued

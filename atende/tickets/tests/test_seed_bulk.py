"""The bulk seeder's guarantees the benchmarks rely on: shapes, events, indexes restored, services still work."""

import json

import pytest
from django.db import connection
from django.db.models import Count

from atende.accounts.choices import Role
from atende.accounts.models import User
from atende.core.actor import Actor
from atende.tickets.models import Message, Ticket, TicketEvent, TicketTag
from atende.tickets.seed import bulk
from atende.tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)  # the loader manages its own transactions and pragmas


def _index_names() -> set[str]:
    return {name for name, _sql in bulk._secondary_indexes([m._meta.db_table for m in bulk.BIG_TABLES])}


def test_rows_events_and_benchmark_fixtures():
    result = bulk.seed_tickets(400, batch_size=150)
    assert result["tickets"] == Ticket.objects.count() == 400
    assert result["messages"] == Message.objects.count()
    assert result["events"] == TicketEvent.objects.count()
    # history, not news: the events subscribers pass over every seeded event
    assert not TicketEvent.objects.filter(backfill=False).exists()
    assert result["tags"] == TicketTag.objects.count() > 0
    # the first ticket of a run has the 50-message thread the ticket-page benchmark reads
    first = Ticket.objects.order_by("id").first()
    assert first.messages.count() == bulk.LONG_THREAD_MESSAGES
    # one customer holds the many tickets the profile benchmark reads (1 in 10, capped)
    heavy = User.objects.get(email=bulk.HEAVY_REQUESTER_EMAIL, role=Role.CUSTOMER)
    assert Ticket.objects.filter(requester=heavy).count() == 400 // 10
    # every reply and note after the first message left its event, pointing at a real message
    later = Message.objects.count() - 400
    added = TicketEvent.objects.filter(type__in=["REPLY_ADDED", "NOTE_ADDED"])
    assert added.count() == later
    sample = added.order_by("?")[:20]
    for event in sample:
        data = event.data if isinstance(event.data, dict) else json.loads(event.data)
        message = Message.objects.get(pk=data["message_id"])
        assert message.ticket_id == event.ticket_id and message.created_at == event.created_at
    assert not Ticket.objects.exclude(status="new").exclude(events__type="STATUS_CHANGED").exists()
    assert not Ticket.objects.annotate(n=Count("events")).filter(n=0).exists()
    assert not Ticket.objects.filter(assignee__isnull=False).exclude(events__type="ASSIGNEE_CHANGED").exists()
    # timestamps are consistent with the thread
    assert not Ticket.objects.filter(status__in=["solved", "closed"], solved_at__isnull=True).exists()
    assert Ticket.objects.filter(number=first.id).exists()


def test_deferred_indexes_are_rebuilt_and_services_work_after():
    before = _index_names()
    assert before, "the big tables have secondary indexes"
    bulk.seed_tickets(120, defer_indexes=True)
    assert _index_names() == before
    last = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # ids were written explicitly: a ticket created through the service afterwards gets the next ones
    customer = User.objects.filter(role=Role.CUSTOMER).first()
    ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="After the load",
                           body_text="Still works")
    assert ticket.pk == ticket.number and ticket.pk > last  # no collision with the explicit ids
    assert ticket.messages.count() == 1


def test_new_tickets_are_searchable():
    search = pytest.importorskip("atende.tickets.search")
    bulk.seed_tickets(60)
    agent = User.objects.filter(role=Role.AGENT).first()
    subject = Ticket.objects.order_by("id").first().subject
    word = max(subject.split(), key=len)
    page = search.search_tickets(user=agent, query=word)
    assert page.items, word

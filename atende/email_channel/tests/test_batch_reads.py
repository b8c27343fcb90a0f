"""The notifications' batch reads its tickets, users and messages with SQL compiled once per connection: the same
objects, field for field (the first message's metadata, the related rows, the followers), as the ORM's reads."""

import pytest
from django.db.models import OuterRef, Subquery

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.email_channel.services.addresses import FIRST_MESSAGE_METADATA
from atende.email_channel.services.notifications import _Batch
from atende.tickets.models import Message, Ticket
from atende.tickets.services import message_add_reply
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if not k.startswith("_")}


def test_the_batch_reads_what_the_orm_reads(team, agent):
    tickets = []
    for i in range(5):  # five ids: padded to eight
        customer = CustomerFactory()
        ticket = make_ticket(requester=customer, team=team, assignee=agent if i % 2 else None,
                             actor=Actor.system())
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text=f"Answer {i}")
        ticket.followers.add(agent)
        tickets.append(ticket)
    messages = list(Message.objects.filter(ticket__in=tickets))
    payloads = [{"type": "REPLY_ADDED", "event_id": 1, "ticket_id": t.pk, "actor_user_id": agent.pk,
                 "data": {"message_id": m.pk, "mentions": [t.requester_id]}}
                for t, m in zip(tickets, messages, strict=False)]
    for _attempt in range(2):  # compiled, then from the kept SQL
        batch = _Batch(payloads)
        first = Message.objects.filter(ticket=OuterRef("pk")).order_by("id").values("metadata")[:1]
        expected = {t.pk: t for t in Ticket.objects.select_related("requester", "team", "assignee")
                    .prefetch_related("followers").annotate(**{FIRST_MESSAGE_METADATA: Subquery(first)})
                    .filter(pk__in=[t.pk for t in tickets])}
        assert list(batch.tickets) == list(expected)
        for pk, ticket in expected.items():
            got = batch.tickets[pk]
            assert fields(got) == fields(ticket)
            assert fields(got.requester) == fields(ticket.requester) and got.team == ticket.team
            assert (got.assignee and fields(got.assignee)) == (ticket.assignee and fields(ticket.assignee))
            assert list(got.followers.all()) == list(ticket.followers.all())
        user_ids = [agent.pk, *(t.requester_id for t in tickets)]
        assert {pk: fields(u) for pk, u in batch.users.items()} == {
            pk: fields(u) for pk, u in type(agent).objects.in_bulk(user_ids).items()}
        orm_messages = Message.objects.select_related("author").in_bulk(
            [p["data"]["message_id"] for p in payloads])
        assert {pk: (fields(m), fields(m.author)) for pk, m in batch.messages.items()} == {
            pk: (fields(m), fields(m.author)) for pk, m in orm_messages.items()}

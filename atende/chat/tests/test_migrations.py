"""Placeholder customers of chat visitors without an email (``visitor-<id>@chat.invalid``) become email-less
customers with a ``chat`` identity; their tickets and conversations stay theirs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from atende.accounts.models import ContactIdentity, User
from atende.accounts.services import customer_get_or_create
from atende.chat.models import ChatSession, Widget
from atende.core.actor import Actor
from atende.tickets.choices import Channel
from atende.tickets.services import ticket_create

BEFORE = [("chat", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_placeholder_visitors_become_chat_identities_and_keep_their_tickets():
    widget = Widget.objects.create(name="Site")
    placeholder = customer_get_or_create(email="visitor-3f2a9c@chat.invalid", name="Chat visitor")
    real = customer_get_or_create(email="ana@example.com", name="Ana")
    ticket = ticket_create(actor=Actor.for_user(placeholder), requester=placeholder, subject="Help",
                           body_text="Hi", channel=Channel.CHAT)
    ChatSession.objects.create(widget=widget, visitor_id="3f2a9c", customer=placeholder, ticket=ticket,
                               status="ended")
    migrate(BEFORE)
    try:
        migrate(leaves())
        placeholder.refresh_from_db()
        assert placeholder.email is None and placeholder.name == "Chat visitor" and placeholder.is_customer
        assert [(i.kind, i.value) for i in placeholder.identities.all()] == [("chat", "3f2a9c")]
        ticket.refresh_from_db()
        assert ticket.requester_id == placeholder.pk and ticket.messages.get().author_id == placeholder.pk
        assert ChatSession.objects.get(visitor_id="3f2a9c").customer_id == placeholder.pk
        real.refresh_from_db()
        assert real.email == "ana@example.com"
        assert [(i.kind, i.value) for i in real.identities.all()] == [("email", "ana@example.com")]
        migrate(BEFORE)  # and back
        placeholder.refresh_from_db()
        assert placeholder.email == "visitor-3f2a9c@chat.invalid"
        assert ContactIdentity.objects.filter(customer=placeholder, kind="email", is_primary=True).exists()
    finally:
        migrate(leaves())
    assert User.objects.get(pk=placeholder.pk).email is None

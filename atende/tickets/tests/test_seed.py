"""``atende seed``: the demo help desk, loaded once, and the bulk generator for benchmarks."""

import io

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db.models import Count
from django.test import override_settings

from atende.accounts.models import Organization, Team, User
from atende.tickets.choices import Channel, MessageKind, TicketPriority, TicketStatus, TicketType
from atende.tickets.models import Category, Message, Ticket, TicketEvent
from atende.tickets.seed.demo import DEMO_LOGINS, DEMO_PASSWORD_HASHES, load_demo

pytestmark = pytest.mark.django_db


def test_demo_is_realistic_and_loaded_once():
    counts = load_demo()
    assert counts == {"organizations": 3, "teams": 3, "agents": 8, "customers": 200, "tickets": 500}
    assert Organization.objects.count() == 3 and Team.objects.count() == 3
    assert User.objects.filter(role="agent").count() == 8
    assert User.objects.filter(role="customer").count() == 200
    assert Ticket.objects.count() == 500
    for field, choices in (("status", TicketStatus), ("channel", Channel), ("type", TicketType),
                           ("priority", TicketPriority)):
        assert set(Ticket.objects.values_list(field, flat=True)) == set(choices.values), field
    leaf_categories = set(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    assert set(Ticket.objects.values_list("category", flat=True)) == leaf_categories
    assert set(Ticket.objects.values_list("language", flat=True)) == {"en", "pt-br"}
    assert Message.objects.filter(kind=MessageKind.NOTE).exists()
    threads = Ticket.objects.annotate(n=Count("messages")).filter(n__gte=3).count()
    assert threads > 100
    # histories came from the services: every status change left its event
    assert not Ticket.objects.exclude(status="new").exclude(events__type="STATUS_CHANGED").exists()
    assert TicketEvent.objects.filter(type="TICKET_CREATED").count() == 500
    for _role, email, password in DEMO_LOGINS:
        assert authenticate(username=email, password=password) is not None, email

    out = io.StringIO()
    call_command("seed", stdout=out)  # second run: nothing new, logins printed again
    assert "already loaded" in out.getvalue()
    assert "admin@atende.test" in out.getvalue() and "atende-customer" in out.getvalue()
    assert Ticket.objects.count() == 500 and User.objects.filter(role="customer").count() == 200
    assert load_demo() == {}


def test_the_stored_demo_hashes_are_the_published_passwords():
    assert set(DEMO_PASSWORD_HASHES) == {password for _role, _email, password in DEMO_LOGINS}
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        for password, encoded in DEMO_PASSWORD_HASHES.items():
            assert check_password(password, encoded), password
            assert not check_password(password + "x", encoded)


@pytest.mark.django_db(transaction=True)  # the bulk loader manages its own transactions (and SQLite pragmas)
def test_bulk_seed_adds_n_tickets_with_threads_and_events():
    out = io.StringIO()
    call_command("seed", "--tickets", "300", "--batch-size", "120", "--quiet", stdout=out)
    assert Ticket.objects.count() == 300
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert None not in numbers and len(set(numbers)) == 300
    assert not Ticket.objects.filter(messages__isnull=True).exists()
    assert TicketEvent.objects.filter(type="TICKET_CREATED").count() == 300
    assert len(set(Ticket.objects.values_list("status", flat=True))) >= 5
    assert "300 tickets" in out.getvalue()
    call_command("seed", "--tickets", "50", "--quiet", stdout=io.StringIO())
    assert Ticket.objects.count() == 350

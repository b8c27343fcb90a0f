"""The ``sla_badge`` template tag, the "Breaching soon" selector, the policy preview and calendar definitions."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.sla.selectors import tickets_breaching_soon
from atende.sla.services.definitions import parse_holidays, parse_hours, policy_save
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def badge(ticket) -> str:
    return Template("{% load sla_tags %}{% sla_badge ticket %}").render(Context({"ticket": ticket})).strip()


@pytest.fixture
def live_policy(db):
    return policy_save(name="Live", conditions={}, first_reply_minutes=120, resolution_minutes=600,
                       business_hours=False)


def test_badge_shows_the_next_target_with_time_left(run_events, live_policy, customer):
    with run_events():
        ticket = make_ticket(requester=customer)
    ticket.refresh_from_db()
    html = badge(ticket)
    assert "sla-ok" in html
    assert "First reply in 1h 59m" in html or "First reply in 2h 00m" in html


def test_badge_is_red_when_breached_and_grey_when_paused(run_events, live_policy, customer, agent):
    with run_events():
        ticket = make_ticket(requester=customer, created_at=timezone.now() - dt.timedelta(hours=3))
    ticket.refresh_from_db()
    html = badge(ticket)
    assert "sla-breached" in html and "First reply overdue by 1h" in html
    with run_events():
        ticket_transition(ticket=ticket, to="pending", actor=Actor.for_user(agent))
    ticket.refresh_from_db()
    assert "sla-paused" in badge(ticket)
    with run_events():
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
    ticket.refresh_from_db()
    assert badge(ticket) == ""


def test_breaching_soon_sorts_by_due_time_and_respects_visibility(run_events, live_policy, customer, agent,
                                                                   other_customer):
    now = timezone.now()
    with run_events():
        later = make_ticket(requester=customer, created_at=now - dt.timedelta(minutes=10))
        sooner = make_ticket(requester=customer, created_at=now - dt.timedelta(minutes=100))
        make_ticket(requester=customer, created_at=now)  # due in 2 hours: outside a one-hour window
    found = list(tickets_breaching_soon(user=agent, within=dt.timedelta(hours=1, minutes=55)))
    assert found == [sooner, later]
    assert list(tickets_breaching_soon(user=other_customer)) == []


def test_policy_preview_page(client, admin_user, live_policy, customer):
    ticket = make_ticket(requester=customer)
    client.force_login(admin_user)
    page = client.get(reverse("sla:policy_preview", args=[live_policy.pk]), {"ticket": ticket.number})
    assert f"Matches ticket #{ticket.number}" in page.content.decode()


def test_opening_hours_and_holidays_text():
    assert parse_hours("mon-wed 09:00-12:00, 13:00-18:00\nsat 10:00-14:00") == [
        (0, 540, 720), (0, 780, 1080), (1, 540, 720), (1, 780, 1080), (2, 540, 720), (2, 780, 1080),
        (5, 600, 840)]
    assert parse_holidays("*-12-25 Natal\n2025-04-18 Sexta-feira Santa") == [
        (dt.date(2000, 12, 25), True, "Natal"), (dt.date(2025, 4, 18), False, "Sexta-feira Santa")]
    with pytest.raises(ValidationError, match="line 1"):
        parse_hours("weekdays 9 to 5")
    with pytest.raises(ValidationError, match="Holiday line 1"):
        parse_holidays("christmas")

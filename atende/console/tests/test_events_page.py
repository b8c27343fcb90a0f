"""Settings → Events: the subscribers' lag and the parked events, retry and discard; administrators only."""

import pytest
from django.urls import reverse

from atende.core.models import EventRetry
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def parked(customer, settings):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    ticket = make_ticket(requester=customer)
    event = TicketEvent.objects.get(ticket=ticket)
    return EventRetry.objects.create(subscriber="sla", event_id=event.pk, ticket_id=ticket.pk,
                                     event_type=event.type, state="parked", attempts=6,
                                     next_attempt_at=event.created_at, last_error="ValueError: no policy")


@pytest.mark.parametrize("who, status", [("anonymous", 302), ("customer", 403), ("agent", 403), ("admin_user", 200)])
def test_only_administrators_see_the_events_page(client, request, parked, who, status):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("console:events"))
    assert response.status_code in ((status,) if status != 403 else (403, 404))
    if status == 200:
        page = response.content.decode()
        assert 'data-subscriber="notifications"' in page and "ValueError: no policy" in page
        assert f'data-retry="{parked.pk}"' in page


def test_admin_retries_then_discards_a_parked_event(client, admin_user, parked, agent):
    client.force_login(agent)
    assert client.post(reverse("console:parked_event_action", args=[parked.pk, "retry"])).status_code in (403, 404)
    assert EventRetry.objects.get(pk=parked.pk).state == "parked"
    client.force_login(admin_user)
    response = client.post(reverse("console:parked_event_action", args=[parked.pk, "retry"]))
    assert response.status_code == 302
    row = EventRetry.objects.get(pk=parked.pk)
    assert row.state == "waiting" and row.attempts == 0
    response = client.post(reverse("console:parked_event_action", args=[parked.pk, "discard"]), follow=True)
    assert EventRetry.objects.get(pk=parked.pk).state == "waiting"  # only parked events can be discarded
    assert "not parked" in response.content.decode()


def test_healthz_reports_degraded_when_events_lag(client, parked, settings):
    from atende.core.outbox.dispatch import cursors_ensure

    cursors_ensure()
    TicketEvent.objects.update(created_at="2020-01-01T00:00:00Z")
    settings.ATENDE_EVENTS_LAG_DEGRADED_SECONDS = 60
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["events"]["degraded"] and body["events"]["parked"] == 1
    settings.ATENDE_EVENTS_LAG_DEGRADED_SECONDS = 10 ** 10
    assert client.get("/healthz").json()["status"] == "ok"


def test_parked_events_are_read_by_administrators_only(parked, admin_user, agent, customer):
    from atende.core.exceptions import PermissionDenied
    from atende.core.selectors import parked_event_list

    assert list(parked_event_list(user=admin_user)) == [parked]
    for user in (agent, customer):
        with pytest.raises(PermissionDenied):
            parked_event_list(user=user)

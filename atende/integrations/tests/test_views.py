"""The administrators' webhook pages."""

from __future__ import annotations

from atende.integrations.models import WebhookSubscription
from atende.outbound.models import Delivery


def test_admin_creates_webhook_and_sees_secret_and_deliveries(client, admin_user, receiver,
                                                              django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    response = client.post("/integrations/webhooks/", {"name": "Tracker", "url": receiver.url,
                                                       "event_types": ["ticket.created", "message.added"]})
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response.url == f"/integrations/webhooks/{subscription.pk}/"
    detail = client.get(response.url)
    assert subscription.secret.encode() in detail.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/integrations/webhooks/{subscription.pk}/ping/")
    delivery = Delivery.objects.get(transport="webhook")
    assert delivery.kind == "ping" and delivery.status == "sent" and len(receiver.requests) == 1
    assert b"ping" in client.get(f"/integrations/webhooks/{subscription.pk}/").content
    client.post(f"/integrations/webhooks/{subscription.pk}/disable/")
    subscription.refresh_from_db()
    assert not subscription.is_active


def test_webhook_pages_are_for_admins_only(client, agent, db):
    client.force_login(agent)
    assert client.get("/integrations/webhooks/").status_code == 404


def test_a_delivery_given_up_is_shown_on_the_page_and_in_the_api(client, admin_user, receiver, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.ATENDE_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.default_status = 500
    client.force_login(admin_user)
    client.post("/integrations/webhooks/", {"name": "Tracker", "url": receiver.url, "event_types": ["ticket.created"]})
    subscription = WebhookSubscription.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/integrations/webhooks/{subscription.pk}/ping/")
    delivery = Delivery.objects.get(transport="webhook")
    assert delivery.status == "given_up" and delivery.attempts == 1
    page = client.get(f"/integrations/webhooks/{subscription.pk}/").content.decode()
    assert "Given up" in page and "HTTP 500" in page and f"/deliveries/{delivery.pk}/" in page  # with Re-send
    api = client.get(f"/api/v1/webhook-deliveries/{delivery.pk}").json()
    assert api["status"] == "abandoned" and api["event_type"] == "ping" and api["webhook_id"] == subscription.pk
    assert [(a["number"], a["status_code"]) for a in api["attempt_log"]] == [(1, 500)]
    receiver.default_status = 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/integrations/deliveries/{delivery.pk}/redeliver/")
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2

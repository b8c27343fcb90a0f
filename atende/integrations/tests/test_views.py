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

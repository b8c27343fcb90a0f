"""Tokens (hashed, scoped, expiring, revocable, last use), the session with CSRF, rate limits, idempotency."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from atende.api.models import ApiToken, IdempotencyKey
from atende.api.services import api_token_create, token_hash
from atende.api.tests.conftest import ApiClient
from atende.core.actor import Actor
from atende.tickets.models import Message, Ticket


def test_token_is_stored_hashed_and_records_last_use(customer, db):
    token, secret = api_token_create(actor=Actor.for_user(customer), user=customer, name="CRM", scope="write")
    assert secret.startswith(token.prefix) and token.token_hash == token_hash(secret)
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    response = ApiClient(secret).get("/me")
    assert response.status_code == 200 and response.json()["token"]["scope"] == "write"
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"


@pytest.mark.parametrize("state", ["expired", "revoked", "inactive user", "garbage"])
def test_unusable_tokens_are_401(customer, db, state):
    token, secret = api_token_create(actor=Actor.for_user(customer), user=customer, name="t")
    if state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    elif state == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif state == "inactive user":
        type(customer).objects.filter(pk=customer.pk).update(is_active=False)
    else:
        secret = "atd_nope_" + "x" * 40
    response = ApiClient(secret).get("/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("invalid_token", "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_customers_cannot_hold_admin_tokens(customer, db):
    from atende.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_token_create(actor=Actor.for_user(customer), user=customer, name="x", scope="admin")


def test_session_auth_needs_csrf_for_writes(customer, ticket):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer)
    assert browser.get(f"/api/v1/tickets/{ticket.pk}").status_code == 200
    refused = browser.post(f"/api/v1/tickets/{ticket.pk}/messages", json.dumps({"body": "hi"}),
                           content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    browser.get("/api/tokens/")  # any page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(f"/api/v1/tickets/{ticket.pk}/messages", json.dumps({"body": "hi"}),
                            content_type="application/json", headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201


def test_anonymous_is_401_everywhere(client, db):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    assert client.post("/api/v1/tickets", "{}", content_type="application/json").status_code == 401


def test_rate_limit_per_token_with_retry_after(customer, api_as, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "api.token": "3/60s"}
    client, other = api_as(customer), api_as(customer)
    assert [client.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/me")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 120  # a sliding window: a full burst fades within two windows
    assert other.get("/me").status_code == 200  # another token has its own budget
    from atende.core.models import ThrottleBucket

    assert ThrottleBucket.objects.get(scope="api.token", refused=1).subject.startswith("token:")  # the one throttle


def test_idempotency_key_replays_the_first_result(customer, api_as):
    client = api_as(customer)
    body = {"subject": "Printer", "body": "Broken"}
    first = client.post("/tickets", body, headers={"Idempotency-Key": "abc-1"})
    again = client.post("/tickets", body, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.filter(subject="Printer").count() == 1
    reused = client.post("/tickets", {**body, "subject": "Other"}, headers={"Idempotency-Key": "abc-1"})
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert client.post("/tickets", body, headers={"Idempotency-Key": "abc-2"}).status_code == 201
    assert Ticket.objects.filter(subject="Printer").count() == 2


def test_failed_create_does_not_burn_the_key(customer, api_as, ticket):
    client = api_as(customer)
    failed = client.post("/tickets", {"subject": "", "body": "x"}, headers={"Idempotency-Key": "k"})
    assert failed.status_code == 422
    assert not IdempotencyKey.objects.exists()
    reply = client.post(f"/tickets/{ticket.pk}/messages", {"body": "once"}, headers={"Idempotency-Key": "r"})
    repeat = client.post(f"/tickets/{ticket.pk}/messages", {"body": "once"}, headers={"Idempotency-Key": "r"})
    assert reply.json()["id"] == repeat.json()["id"]
    assert Message.objects.filter(body_text="once").count() == 1


def test_tokens_page_shows_the_secret_once_and_revokes(customer, client):
    client.force_login(customer)
    page = client.post("/api/tokens/", {"name": "Zapier", "scope": "write", "expires_in_days": 30})
    assert page.status_code == 200
    token = ApiToken.objects.get(user=customer)
    secret = page.context["new_secret"]
    assert token.token_hash == token_hash(secret) and secret.encode() in page.content
    assert secret.encode() not in client.get("/api/tokens/").content
    assert ApiClient(secret).get("/me").status_code == 200
    client.post(f"/api/tokens/{token.pk}/revoke/")
    assert ApiClient(secret).get("/me").status_code == 401
    # the admin scope is not offered to customers
    assert client.post("/api/tokens/", {"name": "x", "scope": "admin"}).context["form"].errors


def test_api_token_command_creates_lists_and_revokes(admin_user):
    out, err = io.StringIO(), io.StringIO()
    call_command("api-token", "create", admin_user.email, "--scope", "admin", "--name", "ops", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert ApiClient(secret).get("/webhooks").status_code == 200
    listing = io.StringIO()
    call_command("api-token", "list", admin_user.email, stdout=listing)
    assert "ops" in listing.getvalue() and secret not in listing.getvalue()
    call_command("api-token", "revoke", str(ApiToken.objects.get().pk), stdout=io.StringIO())
    assert ApiClient(secret).get("/me").status_code == 401


def test_openapi_document_and_docs_are_served(client, db):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/tickets" in paths and "/api/v1/tickets/{ticket_id}/messages" in paths
    assert "422" in paths["/api/v1/tickets"]["post"]["responses"]
    assert client.get("/api/v1/docs").status_code == 200


def test_rate_limit_works_on_redis_too(customer, api_as, settings):
    """Several web processes share their counters through Redis (when REDIS_URL is set)."""
    from atende.core.testing.redis import redis_url_or_skip, unique_prefix

    # No cache.clear() here: on Redis that would flush the whole database; the prefix is this test's own.
    settings.CACHES = {"default": {"BACKEND": "atende.core.cache.SharedPoolRedisCache",
                                   "LOCATION": redis_url_or_skip(), "KEY_PREFIX": unique_prefix("api")}}
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "api.token": "2/60s"}
    client = api_as(customer)
    assert [client.get("/me").status_code for _ in range(3)] == [200, 200, 429]


def test_idempotency_keys_expire_after_a_day(customer, api_as):
    import datetime as dt

    client = api_as(customer)
    client.post("/tickets", {"subject": "Once", "body": "x"}, headers={"Idempotency-Key": "old"})
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    again = client.post("/tickets", {"subject": "Once", "body": "x"}, headers={"Idempotency-Key": "old"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Ticket.objects.filter(subject="Once").count() == 2 and IdempotencyKey.objects.count() == 1

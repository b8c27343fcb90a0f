"""API test helpers: a token per person, and a client that sends it."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, OrganizationFactory
from atende.api.services import api_token_create
from atende.core.actor import Actor


class ApiClient:
    """Django's test client speaking JSON with a Bearer token (or none, for anonymous)."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def get(self, path, params=None, headers=None):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self._headers(headers))

    def post(self, path, data=None, headers=None):
        return self.client.post(f"/api/v1{path}", json.dumps(data or {}), content_type="application/json",
                                headers=self._headers(headers))

    def post_multipart(self, path, data, headers=None):
        return self.client.post(f"/api/v1{path}", data, headers=self._headers(headers))

    def patch(self, path, data=None, headers=None):
        return self.client.patch(f"/api/v1{path}", json.dumps(data or {}), content_type="application/json",
                                 headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(headers))


def token_for(user, scope: str = "write") -> str:
    scope = "admin" if scope == "admin" and user.is_admin else scope
    _token, raw = api_token_create(actor=Actor.for_user(user), user=user, name="test", scope=scope)
    return raw


@pytest.fixture
def api_as():
    """``api_as(user, scope="write")`` → an ApiClient; ``api_as(None)`` is anonymous."""

    def make(user, scope: str = "write") -> ApiClient:
        return ApiClient(token_for(user, scope) if user is not None else None)

    return make


@pytest.fixture
def restricted_agent(db):
    """An agent limited to their teams' tickets, in no team."""
    return AgentFactory(restrict_to_teams=True)


@pytest.fixture
def org_mate(db, customer):
    """Another customer in the same organisation (which does not share tickets)."""
    return CustomerFactory(organization=customer.organization)


@pytest.fixture
def foreign_customer(db):
    return CustomerFactory(organization=OrganizationFactory())


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; each test starts with a full budget."""
    from django.core.cache import cache

    cache.clear()


"""The REST API at ``/api/v1/``: one NinjaAPI, token or session auth, JSON errors, a router per resource."""

from __future__ import annotations

from ninja import NinjaAPI

from atende.api.auth import SessionAuth, TokenAuth
from atende.api.errors import install_error_handlers
from atende.api.parsing import StrictJSONParser
from atende.api.routers import (
    attachments,
    audit,
    identities,
    kb,
    me,
    messages,
    messaging,
    people,
    privacy,
    surveys,
    taxonomy,
    ticket_actions,
    tickets,
    webhooks,
)

DESCRIPTION = """
Atende's REST API. Authenticate with a personal token (`Authorization: Bearer atd_…`, created under
*API tokens* or with `atende api-token create`), or with the browser session plus the `X-CSRFToken` header.

Conventions: cursor pagination (`cursor` = the `next_cursor` of the previous page, `size` ≤ 100); times are
ISO 8601 in UTC; errors are `{"error": {"code", "message", "details"}}`; creates accept `Idempotency-Key`;
requests are rate limited per token (429 with `Retry-After`).
"""


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Atende API",
        version="1",
        description=DESCRIPTION,
        urls_namespace="api:api-v1",
        auth=[TokenAuth(), SessionAuth()],
        parser=StrictJSONParser(),
    )
    install_error_handlers(api)
    for module in (me, tickets, ticket_actions, messages, attachments, messaging, people, identities, taxonomy, audit,
                   kb, surveys, webhooks, privacy):
        api.add_router("/", module.router)
    return api


api = build_api()

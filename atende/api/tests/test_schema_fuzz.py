"""Property-based fuzz of the whole API from its own OpenAPI document (schemathesis), in-process over WSGI:
no operation answers 5xx, and every response matches the documented status codes, content types and schemas.

Bounded (a few examples per operation) so it stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from atende.api.tests.conftest import token_for
from atende.config.wsgi import application
from atende.core.actor import Actor
from atende.tickets.services import IncomingFile, message_add_reply
from atende.tickets.tests.factories import make_ticket

EXAMPLES_PER_OPERATION = 3
# What the API promises: no server errors, and responses as documented. (Whether a schema-valid request may
# still be refused, e.g. an unknown team id, is business validation and answered with a documented 422.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def fuzz_token(db, admin_user, customer, team, agent, settings):
    """An admin-scoped token (so every operation is reachable) and a little data for ids to hit."""
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "api.token": "0/60s"}  # the fuzz sends hundreds of requests with one token
    # Like Django's test client: requests must not close the test's connection (its transaction holds the data).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, tags=["vip"])
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="log",
                      attachments=[IncomingFile("log.txt", b"trace", "text/plain")])
    yield token_for(admin_user, "admin")
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_api_conforms_to_its_schema(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)

"""The API fuzzed from its own OpenAPI document over real HTTP: the demo desk served by uvicorn on loopback,
schemathesis sending valid and invalid requests (bodies, content types, headers as the schema allows and
breaks them). No operation may answer 5xx.

The in-process fuzz (test_schema_fuzz.py) checks conformance; this one finds what only a real server shows
(how the ASGI server hands Django a body, multipart without a boundary, chunked bodies). Bounded examples per
operation so it finishes in about a minute.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from atende.api.api import api
from atende.core.testing.server import ROOT, demo_server, server_env

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 4
TOKEN = """
import django
django.setup()
from atende.accounts.models import User
from atende.api.services import api_token_create
from atende.core.actor import Actor
admin = User.objects.get(email="admin@atende.test")
print(api_token_create(actor=Actor.for_user(admin), user=admin, name="fuzz", scope="admin")[1])
"""


@pytest.fixture(scope="module")
def live_desk(tmp_path_factory):
    var = tmp_path_factory.mktemp("api-live")
    # No rate limit: the fuzz sends hundreds of requests with one token.
    with demo_server(var, tickets=8, extra_env={"API_RATE_LIMIT": "0"}) as (base, database):
        token = subprocess.run([sys.executable, "-c", TOKEN], env=server_env(database), cwd=ROOT, check=True,
                               capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[-1]
        yield base, token


# The document the server publishes (the same code builds it); the requests go to the live server.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_no_operation_answers_a_server_error_over_http(case, live_desk):
    base, token = live_desk
    case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error],
                           timeout=30)

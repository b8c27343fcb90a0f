"""Bodies the API cannot or will not read answer 4xx with the JSON error body, never 500, and never a silent
partial acceptance: too large (413), not JSON (415), broken JSON (400), unknown fields (422)."""

from __future__ import annotations

import json
import typing

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from atende.api.api import api
from atende.api.schemas import InputSchema
from atende.tickets.models import Ticket

JSON_ENDPOINTS = ["/tickets", "/tickets/{id}/messages", "/messaging/messages"]


@pytest.fixture
def post_raw(customer, api_as, ticket_of):
    """POST raw bytes with any Content-Type to an API path ({id}: a ticket of the customer)."""
    client = api_as(customer)
    ticket = ticket_of(customer)

    def post(path: str, body: bytes, content_type: str = "application/json", **headers):
        headers = {"Authorization": f"Bearer {client.token}", **headers}
        return Client().generic("POST", "/api/v1" + path.replace("{id}", str(ticket.pk)), body,
                                content_type=content_type, headers=headers)

    return post


@pytest.fixture
def ticket_of():
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_create

    def make(customer):
        return ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Existing", body_text="x")

    return make


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_a_body_over_the_limit_is_413_with_the_error_body(post_raw, path, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = json.dumps({"subject": "x", "body": "a" * (2 * 1024 * 1024)}).encode()
    response = post_raw(path, big)
    assert_error(response, 413, "body_too_large")
    assert response.json()["error"]["details"]["limit"] == 1024 * 1024


def test_ten_megabytes_of_json_with_default_settings_is_413(post_raw):
    assert_error(post_raw("/tickets", b'{"subject": "x", "body": "' + b"a" * 10_000_000 + b'"}'), 413)
    assert not Ticket.objects.filter(subject="x").exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_json_endpoints_refuse_other_content_types_with_415(post_raw, content_type):
    response = post_raw("/tickets", json.dumps({"subject": "Typed", "body": "x"}).encode(), content_type)
    assert response.status_code in (415, 400)  # a multipart body that is not multipart may fail to parse first
    if content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        assert_error(response, 415, "unsupported_media_type")
    assert not Ticket.objects.filter(subject="Typed").exists()


def test_json_with_a_charset_or_a_json_suffix_type_is_accepted(post_raw):
    assert post_raw("/tickets", b'{"subject": "A", "body": "x"}', "application/json; charset=utf-8").status_code == 201
    assert post_raw("/tickets", b'{"subject": "B", "body": "x"}', "application/vnd.atende+json").status_code == 201


@pytest.mark.parametrize("body, code", [
    (b"{", "invalid_json"),
    (b'{"subject": "x", "body": "y",}', "invalid_json"),
    (b'{"subject": "\xff\xfe", "body": "x"}', "invalid_json"),  # not UTF-8
    (b'{"subject": "x", "body": "y", "team_id": NaN}', "invalid_json"),
    (b'{"subject": "x", "body": "y", "team_id": 1e999}', "invalid_json"),
    (b'{"subject": "x", "body": "y", "team_id": ' + b"9" * 5000 + b"}", "invalid_json"),
    (b'{"subject": "x", "body": "y", "team_id": 99999999999999999999}', "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
    (b'{"subject": "x", "body": "y", "custom_fields": ' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}", "invalid_json"),
])
def test_malformed_json_is_400_invalid_json(post_raw, body, code):
    assert_error(post_raw("/tickets", body), 400, code)


def test_unknown_fields_are_refused_with_422_naming_them(post_raw):
    response = post_raw("/tickets", json.dumps({"subject": "Teamed", "body": "x", "team": "abc"}).encode())
    assert_error(response, 422, "unknown_field")
    assert "team" in response.json()["error"]["message"]
    assert not Ticket.objects.filter(subject="Teamed").exists()


def test_the_multipart_endpoint_without_a_boundary_or_body_is_400(post_raw):
    assert post_raw("/tickets/multipart", b"", "multipart/form-data").status_code in (400, 422)  # nothing sent
    assert_error(post_raw("/tickets/multipart", b"--x\r\nbroken", "multipart/form-data"), 400, "invalid_multipart")
    assert post_raw("/tickets/multipart", b"", "multipart/form-data; boundary=abc").status_code in (400, 422)


def test_an_invalid_content_length_is_400(post_raw):
    assert_error(post_raw("/tickets", b"{}", CONTENT_LENGTH="12x"), 400, "bad_content_length")


def test_ids_beyond_64_bits_are_4xx(customer, api_as):
    client = api_as(customer)
    assert client.get(f"/tickets/{10**30}").status_code in (404, 422)
    response = client.post("/tickets", {"subject": "Big", "body": "x", "team_id": 2**63 - 1})
    assert 400 <= response.status_code < 500


def _body_models(annotation) -> list[type[BaseModel]]:
    """Every pydantic model a body annotation can contain (lists, optionals, nested fields)."""
    found, todo = [], [annotation]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item not in found:
                found.append(item)
                todo.extend(field.annotation for field in item.model_fields.values())
        else:
            todo.extend(typing.get_args(item))
    return found


def test_every_request_body_of_every_operation_refuses_unknown_fields():
    """The class, not the instance: a new endpoint whose body schema forgets InputSchema fails here."""
    checked = []
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ != "body":
                        continue
                    for field in model.model_fields.values():
                        for body_model in _body_models(field.annotation):
                            assert body_model.model_config.get("extra") == "forbid", (
                                f"{operation.view_func.__name__}: {body_model.__name__} must derive from "
                                "InputSchema")
                            checked.append(body_model)
    assert any(m.__name__ == "TicketCreateIn" for m in checked) and issubclass(checked[0], InputSchema)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=400),
       content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data",
                                     "multipart/form-data; boundary=b", "application/x-www-form-urlencoded", ""]),
       path=st.sampled_from([*JSON_ENDPOINTS, "/tickets/multipart", "/tickets/{id}/messages/multipart"]))
def test_arbitrary_bytes_never_cause_a_server_error(post_raw, body, content_type, path):
    response = post_raw(path, body, content_type)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("message", ["database is locked",  # SQLite: the write lock held past the busy timeout
                                     "couldn't get a connection after 20.00 sec"])  # PostgreSQL: pool exhausted
def test_a_database_too_busy_at_a_peak_is_a_503_with_retry_after_not_a_500(api_as, agent, monkeypatch, message):
    from django.db import OperationalError

    def busy(*args, **kwargs):
        raise OperationalError(message)

    monkeypatch.setattr("atende.api.routers.tickets.ticket_list_page", busy)
    response = api_as(agent).get("/tickets")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "busy"


def test_other_database_errors_stay_server_errors(api_as, agent, monkeypatch):
    from django.db import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("no such table: tickets_ticket")

    monkeypatch.setattr("atende.api.routers.tickets.ticket_list_page", broken)
    client = api_as(agent)
    client.client.raise_request_exception = False
    assert client.get("/tickets").status_code == 500

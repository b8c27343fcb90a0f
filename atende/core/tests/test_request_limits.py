"""Oversized and malformed bodies on pages: a friendly 413/400 page, never a 500 (the API's side is in
api/tests/test_bad_input.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PORTAL_FORM = "/portal/requests/new/"


@pytest.fixture
def customer_client(customer):
    client = Client()
    client.force_login(customer)
    return client


def test_a_declared_body_over_the_limit_gets_a_413_page_before_it_is_read(customer_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = customer_client.generic("POST", PORTAL_FORM, b"subject=" + b"a" * 5000,
                                       content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and response["Content-Type"].startswith("text/html")
    assert b"too large" in response.content


def test_uploads_have_their_own_larger_limit(customer_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.REQUEST_UPLOAD_MAX_BYTES = 100_000
    small_upload = customer_client.post(PORTAL_FORM, {"subject": "s", "body": "b", "attachments": _file(5000)})
    assert small_upload.status_code != 413
    big_upload = customer_client.post(PORTAL_FORM, {"subject": "s", "body": "b", "attachments": _file(200_000)})
    assert big_upload.status_code == 413


def test_too_many_fields_is_a_413_page_not_a_500(db, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    body = "&".join(f"f{i}=x" for i in range(200)).encode()
    response = Client().generic("POST", "/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and b"too large" in response.content


def test_an_unparseable_content_length_is_400(customer_client):
    response = customer_client.generic("POST", PORTAL_FORM, b"a=1", content_type="application/x-www-form-urlencoded",
                                       CONTENT_LENGTH="-5")
    assert response.status_code == 400


def _file(size: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("a.bin", b"x" * size, content_type="application/octet-stream")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=600),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                     "multipart/form-data; boundary=b", "text/plain", "application/json", ""]),
       path=st.sampled_from([PORTAL_FORM, "/accounts/login/", "/accounts/password-reset/"]))
def test_arbitrary_bytes_posted_to_forms_never_cause_a_server_error(customer_client, body, content_type, path):
    response = customer_client.generic("POST", path, body, content_type=content_type)
    assert response.status_code < 500


def test_a_database_too_busy_at_a_peak_gets_a_503_page_with_retry_after(agent, monkeypatch):
    from django.db import OperationalError

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("atende.console.views.queues.ticket_rows", locked)
    client = Client()
    client.force_login(agent)
    response = client.get("/console/")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response["Content-Type"].startswith("text/html") and b"try again in a moment" in response.content

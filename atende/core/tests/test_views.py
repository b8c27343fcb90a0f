import re

import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["vendor"] == connection.vendor


@pytest.mark.django_db
def test_healthz_answers_503_when_database_unreachable(client, monkeypatch):
    # Stopping the shared test database server is not an option here, so the driver's failure is simulated at the
    # cursor: the view must turn any database error into 503, without leaking a stack trace.
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.django_db
def test_home_sends_agents_to_console_and_others_to_portal(client, agent, customer):
    assert client.get("/").url.startswith("/portal/")
    client.force_login(customer)
    assert client.get("/").url.startswith("/portal/")
    client.force_login(agent)
    assert client.get("/").url.startswith("/console/")


@pytest.mark.django_db
@pytest.mark.parametrize("who", [None, "agent", "customer"])
def test_every_page_has_an_icon_and_favicon_ico_is_found(client, who, request):
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get("/favicon.ico", follow=True)
    assert response.redirect_chain == [("/static/atende/favicon.ico", 301)]
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/", follow=True).content.decode()
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert icons and all(client.get(href).status_code == 200 for href in icons)

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

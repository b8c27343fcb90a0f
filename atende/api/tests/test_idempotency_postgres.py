"""Concurrent identical creates with the same Idempotency-Key create exactly one ticket (real threads, PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from atende.api.tests.conftest import ApiClient, token_for
from atende.tickets.models import Ticket


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_ticket(customer):
    secret = token_for(customer, "write")
    barrier = threading.Barrier(6)
    results: list = []

    def send():
        try:
            client = ApiClient(secret)
            barrier.wait()
            results.append(client.post("/tickets", {"subject": "Race", "body": "same"},
                                       headers={"Idempotency-Key": "race-1"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 6
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert Ticket.objects.filter(subject="Race").count() == 1
    assert sum(1 for r in results if r.headers.get("Idempotent-Replayed") == "true") == 5

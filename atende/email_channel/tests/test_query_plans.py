"""Threading and duplicate checks look messages and tickets up by external id through their partial indexes.

The indexes only cover rows with an external id, and SQLite uses such an index only when the query repeats its
condition; without it every inbound email scanned the message table (1.1 s per lookup at 3,000,000 messages,
docs/benchmarks.md). The plans are SQLite's; PostgreSQL proves the condition from the equality itself.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.testing.plans import sqlite_full_scans
from atende.email_channel.choices import InboundSource, InboundStatus
from atende.email_channel.services import inbound_process, inbound_store
from atende.email_channel.tests.conftest import make_raw

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")]


def _full_scans(captured) -> list[str]:
    return sqlite_full_scans(captured.captured_queries, mentioning="external_id",
                             tables=("tickets_message", "tickets_ticket"))


def test_inbound_email_looks_up_message_ids_through_the_index(mailbox):
    with CaptureQueriesContext(connection) as captured:
        first, _ = inbound_store(raw=make_raw(), source=InboundSource.IMPORT)
        first = inbound_process(inbound_id=first.pk)
        reply, _ = inbound_store(raw=make_raw(subject="Re: Printer broken", message_id="<m2@customer.example>",
                                              headers={"In-Reply-To": "<m1@customer.example>"}),
                                 source=InboundSource.IMPORT)
        reply = inbound_process(inbound_id=reply.pk)
    assert first.status == InboundStatus.TICKET_CREATED
    assert reply.status == InboundStatus.REPLY_ADDED and reply.ticket_id == first.ticket_id
    lookups = [q for q in captured.captured_queries if "external_id" in q["sql"] and q["sql"].startswith("SELECT")]
    assert lookups, "the pipeline no longer looks messages up by Message-ID"
    assert _full_scans(captured) == []

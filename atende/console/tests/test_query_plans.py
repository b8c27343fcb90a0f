"""Every built-in queue and every sort a saved view offers reads its page off an index, never sorting the matches.

SQLite's plan says "USE TEMP B-TREE FOR ORDER BY" when it has to sort; at 1,000,000 tickets that sort was the
difference between 5 ms and more than a second for a page (docs/benchmarks.md). PostgreSQL plans depend on
statistics that a test database does not have, so this runs on SQLite only.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.console.models import ListSort
from atende.console.selectors import BUILTIN_QUEUES, Queue, queue_get, queue_tickets_page
from atende.core.actor import Actor
from atende.core.testing.plans import sqlite_plans
from atende.tickets.filters import TicketFilters
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")


def _sorted_in_memory(queue, user) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        queue_tickets_page(user=user, queue=queue, size=10)
    return [f"{sql[:200]}… → {' | '.join(steps)}"
            for sql, steps in sqlite_plans(captured.captured_queries, mentioning="tickets_ticket")
            if any("TEMP B-TREE FOR ORDER BY" in step for step in steps)]


@pytest.fixture
def tickets(db, agent, team):
    team.members.add(agent)
    for i in range(6):
        make_ticket(actor=Actor.for_user(agent), team=team, assignee=agent if i % 2 else None, subject=f"T{i}")


@pytest.mark.parametrize("key", [q.key for q in BUILTIN_QUEUES])
def test_builtin_queues_read_their_page_off_an_index(tickets, agent, key):
    assert _sorted_in_memory(queue_get(user=agent, key=key), agent) == []


@pytest.mark.parametrize("sort", [s.value for s in ListSort])
@pytest.mark.parametrize("filters", [
    {"status": ["active"]},
    {"status": ["active"], "assignee": ["me"]},
    {"status": ["unsolved"], "team": ["mine"], "priority": ["high", "urgent"]},
    {"status": ["active"], "assignee": ["none"], "team": ["mine"]},
])
def test_saved_view_sorts_read_their_page_off_an_index(tickets, agent, sort, filters):
    queue = Queue(key="view-test", name="Test", filters=TicketFilters.from_dict(filters), sort=sort, columns=["number"])
    assert _sorted_in_memory(queue, agent) == []

import datetime as dt

import pytest

from atende.sla.business_time import parse_hhmm
from atende.sla.services.definitions import calendar_save, policy_save

T0 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)  # a Tuesday


@pytest.fixture
def run_events(django_capture_on_commit_callbacks):
    """Deliver events (and the tasks they enqueue) as the real on-commit hooks would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def fast_policy(db):
    """Calendar time, so the expected due times are plain arithmetic."""
    return policy_save(name="Urgent", conditions={"all": [{"field": "priority", "op": "in",
                                                           "value": ["high", "urgent"]}]},
                       first_reply_minutes=60, next_reply_minutes=30, resolution_minutes=480,
                       business_hours=False, warn_before_minutes=15)


@pytest.fixture
def london_calendar(db, team):
    week = [(d, parse_hhmm("09:00"), parse_hhmm("17:00")) for d in range(5)]
    return calendar_save(name="London office", time_zone="Europe/London", hours=week, teams=[team])

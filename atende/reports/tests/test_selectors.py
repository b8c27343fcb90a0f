import datetime
import zoneinfo

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AdminFactory
from atende.reports.selectors import (
    report_backlog,
    report_breakdowns,
    report_by_agent,
    report_by_team,
    report_satisfaction,
    report_scope,
    report_summary,
    report_timeseries,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return AdminFactory()


def test_summary_counts_volume_times_and_sla_for_the_period(scenario, admin):
    summary = report_summary(user=admin, scope=report_scope(period="30d"))

    assert summary["created"] == 3  # the 40-day-old ticket is outside the period
    assert summary["solved"] == 1
    assert summary["responded"] == 2
    assert summary["first_response_hours"] == 4.0  # (2 h + 6 h) / 2
    assert summary["resolution_hours"] == 10.0
    assert (summary["first_reply_met"], summary["first_reply_decided"], summary["first_reply_pct"]) == (1, 2, 50)
    assert (summary["resolution_met"], summary["resolution_decided"], summary["resolution_pct"]) == (0, 2, 0)
    assert summary["sla_breaches"] == 2  # solved's resolution and answered's first reply
    assert summary["reopened"] == 0


def test_shorter_period_leaves_older_tickets_out(scenario, admin):
    summary = report_summary(user=admin, scope=report_scope(period="7d"))
    assert summary["created"] == 3
    year = report_summary(user=admin, scope=report_scope(period="365d"))
    assert year["created"] == 4


def test_team_and_channel_filters(scenario, admin, team):
    by_team = report_summary(user=admin, scope=report_scope(team_id=team.pk))
    assert by_team["created"] == 2
    by_channel = report_summary(user=admin, scope=report_scope(channel="email"))
    assert by_channel["created"] == 2
    assert by_channel["solved"] == 0
    assert by_channel["first_response_hours"] == 6.0


def test_reopened_tickets_are_counted(scenario, admin):
    from atende.core.actor import Actor
    from atende.tickets.services import message_add_reply

    message_add_reply(ticket=scenario["solved"], actor=Actor.for_user(scenario["customer"]), body_text="Again.")
    summary = report_summary(user=admin, scope=report_scope())
    assert summary["reopened"] == 1
    assert summary["solved"] == 0  # a reopened ticket is no longer solved


def test_timeseries_has_one_row_per_day_with_created_and_solved(scenario, admin):
    rows = report_timeseries(user=admin, scope=report_scope(period="7d"))
    assert len(rows) == 7
    assert rows[-1]["day"] == timezone.localdate()
    assert sum(r["created"] for r in rows) == 3
    assert sum(r["solved"] for r in rows) == 1
    assert sum(r["sla_breaches"] for r in rows) == 2
    created_day = timezone.localtime(scenario["answered"].created_at).date()
    row = next(r for r in rows if r["day"] == created_day)
    assert row["created"] >= 1 and row["first_reply_decided"] >= 1


def test_timeseries_weekly_for_long_periods(scenario, admin):
    rows = report_timeseries(user=admin, scope=report_scope(period="90d"))
    assert all(r["day"].weekday() == 0 for r in rows)
    assert 13 <= len(rows) <= 14
    assert sum(r["created"] for r in rows) == 4  # the 40-day-old ticket is inside 90 days


def test_days_follow_the_users_time_zone(db, admin, agent):
    """A ticket created at 01:30 UTC belongs to the previous day in São Paulo (UTC-3)."""
    from atende.tickets.tests.factories import make_ticket

    now = timezone.now()
    created = now.replace(hour=1, minute=30, second=0, microsecond=0) - datetime.timedelta(days=2)
    make_ticket(created_at=created)
    with timezone.override(zoneinfo.ZoneInfo("America/Sao_Paulo")):
        rows = report_timeseries(user=admin, scope=report_scope(period="7d", now=now))
        local_day = created.astimezone(zoneinfo.ZoneInfo("America/Sao_Paulo")).date()
    assert local_day == created.date() - datetime.timedelta(days=1)
    assert [r["day"] for r in rows if r["created"]] == [local_day]


def test_breakdowns_by_channel_category_and_tag(scenario, admin):
    data = report_breakdowns(user=admin, scope=report_scope())
    assert [(r["key"], r["n"]) for r in data["by_channel"]] == [("email", 2), ("web", 1)]
    assert [(r["label"], r["n"]) for r in data["by_category"]] == [(None, 2), ("Login", 1)]
    assert [(r["label"], r["n"]) for r in data["by_tag"]] == [("vpn", 2), ("urgent", 1)]


def test_backlog_is_unsolved_now_by_status_and_priority(scenario, admin):
    backlog = report_backlog(user=admin, scope=report_scope(period="7d"))
    assert backlog["total"] == 3  # answered (open), untouched and old (new), whatever the period
    by_status = {r["key"]: r["n"] for r in backlog["by_status"]}
    assert by_status == {"new": 2, "open": 1, "pending": 0, "on_hold": 0}
    assert {r["key"]: r["n"] for r in backlog["by_priority"]}["normal"] == 3


def test_per_team_times(scenario, admin, team, other_team):
    rows = {r["team"]: r for r in report_by_team(user=admin, scope=report_scope())}
    assert rows["Support"]["created"] == 2
    assert rows["Support"]["solved"] == 1
    assert rows["Support"]["first_response_hours"] == 4.0
    assert rows["Support"]["resolution_hours"] == 10.0
    assert rows["Billing"]["created"] == 1
    assert rows["Billing"]["first_response_hours"] is None


def test_per_agent_solved_first_response_and_satisfaction(scenario, admin, agent):
    [row] = report_by_agent(user=admin, scope=report_scope())
    assert row["agent_id"] == agent.pk
    assert row["solved"] == 1
    assert row["first_response_hours"] == 4.0
    assert (row["good"], row["bad"], row["score"]) == (1, 0, 100)


def test_satisfaction_uses_the_surveys_summary(scenario, admin, restricted_agent, billing_agent):
    assert report_satisfaction(user=admin, scope=report_scope())["score"] == 100
    assert report_satisfaction(user=restricted_agent, scope=report_scope())["good"] == 1
    assert report_satisfaction(user=billing_agent, scope=report_scope())["good"] == 0


def test_restricted_agent_sees_only_their_teams(scenario, restricted_agent, billing_agent):
    mine = report_summary(user=restricted_agent, scope=report_scope())
    assert mine["created"] == 2
    assert mine["sla_breaches"] == 2
    theirs = report_summary(user=billing_agent, scope=report_scope())
    assert theirs["created"] == 1
    assert theirs["sla_breaches"] == 0
    assert report_backlog(user=billing_agent, scope=report_scope())["total"] == 1


def test_collaborator_sees_only_their_teams(scenario, collaborator):
    summary = report_summary(user=collaborator, scope=report_scope())
    assert summary["created"] == 2
    assert report_by_agent(user=collaborator, scope=report_scope())[0]["solved"] == 1


def _responded_and_solved(agent, team, hours: list[tuple[int, int]]):
    from atende.core.actor import Actor
    from atende.tickets.services import message_add_reply, ticket_transition
    from atende.tickets.tests.factories import make_ticket

    actor = Actor.for_user(agent)
    start = timezone.now() - datetime.timedelta(days=3)
    for reply_after, solve_after in hours:
        ticket = make_ticket(actor=actor, team=team, assignee=agent, created_at=start)
        message_add_reply(ticket=ticket, actor=actor, body_text="Done.",
                          created_at=start + datetime.timedelta(hours=reply_after))
        ticket_transition(ticket=ticket, to="solved", actor=actor, now=start + datetime.timedelta(hours=solve_after))


@pytest.mark.postgres
def test_medians_on_postgresql(db, admin, agent, team):
    from atende.reports.selectors import report_dashboard

    _responded_and_solved(agent, team, [(1, 2), (2, 3), (9, 10)])
    data = report_dashboard(user=admin, scope=report_scope())
    assert data["medians"] is True
    summary = data["summary"]
    assert (summary["first_response_hours"], summary["first_response_median_hours"]) == (4.0, 2.0)
    assert (summary["resolution_hours"], summary["resolution_median_hours"]) == (5.0, 3.0)
    [team_row] = data["by_team"]
    assert (team_row["first_response_median_hours"], team_row["resolution_median_hours"]) == (2.0, 3.0)
    [agent_row] = data["by_agent"]
    assert (agent_row["first_response_hours"], agent_row["first_response_median_hours"]) == (4.0, 2.0)


def test_without_postgresql_there_are_averages_only(db, admin, agent, team):
    from atende.reports.selectors import medians_supported, report_dashboard

    if medians_supported():
        pytest.skip("PostgreSQL computes medians")
    _responded_and_solved(agent, team, [(1, 2), (2, 3), (9, 10)])
    data = report_dashboard(user=admin, scope=report_scope())
    assert data["medians"] is False
    assert data["summary"]["first_response_hours"] == 4.0
    assert data["summary"]["first_response_median_hours"] is None


def test_spam_is_never_counted(scenario, admin, agent):
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_mark_spam

    ticket_mark_spam(ticket=scenario["untouched"], actor=Actor.for_user(agent))
    assert report_summary(user=admin, scope=report_scope())["created"] == 2
    assert report_backlog(user=admin, scope=report_scope())["total"] == 2

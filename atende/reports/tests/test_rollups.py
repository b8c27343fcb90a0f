"""The summary tables follow the tickets: an event marks its ticket, the minute job recomputes its buckets, and a
rebuild from scratch gives the same rows. These tests drive the rollups themselves (``rollups_as_is``)."""

import datetime

import pytest
from django.core.management import call_command

from atende.core.actor import Actor
from atende.reports.models import DayStats, HourStats, RollupMark
from atende.reports.selectors import report_by_team, report_scope, report_summary, rollups_ready
from atende.reports.services import rollups_rebuild, rollups_refresh
from atende.tickets.services import message_add_reply, ticket_assign, ticket_mark_spam, ticket_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(scenario, rollups_as_is, django_capture_on_commit_callbacks):
    rollups_rebuild()
    assert rollups_ready()
    return scenario


def _summary(user, **scope):
    return report_summary(user=user, scope=report_scope(period="30d", **scope))


def _rows(model, *fields):
    return sorted(model.objects.values_list(*fields))


def test_a_change_shows_after_the_minute_job_and_not_before(built, admin_user, agent, django_capture_on_commit_callbacks):
    before = _summary(admin_user)
    with django_capture_on_commit_callbacks(execute=True):  # the events bus marks the ticket after commit
        message_add_reply(ticket=built["untouched"], actor=Actor.for_user(agent), body_text="On it.")
    assert RollupMark.objects.filter(ticket_id=built["untouched"].pk).exists()
    # the ticket was created yesterday: its hour is read from the rollups, which have not been refreshed yet
    assert _summary(admin_user)["responded"] == before["responded"]
    done = rollups_refresh()
    assert done["tickets"] >= 1 and not RollupMark.objects.exists()  # one mark per event (reply, opened)
    assert _summary(admin_user)["responded"] == before["responded"] + 1


def test_solve_reopen_spam_and_team_changes_are_counted_after_a_refresh(built, admin_user, agent, team, other_team,
                                                                         django_capture_on_commit_callbacks):
    actor = Actor.for_user(agent)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=built["solved"], to="open", actor=actor)  # reopened: no longer solved
        ticket_assign(ticket=built["untouched"], actor=actor, team=team, assignee=None)  # Billing -> Support
        ticket_mark_spam(ticket=built["answered"], actor=actor)
    rollups_refresh()
    summary = _summary(admin_user)
    assert (summary["created"], summary["solved"], summary["reopened"]) == (2, 0, 1)  # spam never counts
    teams = {row["team"]: row["created"] for row in report_by_team(user=admin_user, scope=report_scope(period="30d"))}
    assert teams == {"Support": 2}
    # the refreshed rollups are what a rebuild from scratch gives
    hours, days = _rows(HourStats, "hour", "team_id", "channel", "created", "solved"), _rows(DayStats, "day", "created")
    HourStats.objects.all().delete()
    DayStats.objects.all().delete()
    call_command("reports-rebuild", quiet=True)
    assert _rows(HourStats, "hour", "team_id", "channel", "created", "solved") == hours
    assert _rows(DayStats, "day", "created") == days


def test_the_rollups_and_the_ticket_table_agree_for_restricted_and_unrestricted_viewers(built, admin_user,
                                                                                        restricted_agent):
    from atende.reports.selectors import report_dashboard

    scope = report_scope(period="365d")
    admin_view = report_dashboard(user=admin_user, scope=scope)
    restricted = report_dashboard(user=restricted_agent, scope=scope)  # always from the ticket table
    assert admin_view["summary"]["created"] == 4
    assert restricted["summary"]["created"] == 3  # their team's tickets only (not Billing's)


def test_rollups_are_built_by_the_minute_job_when_they_are_not_ready(scenario, rollups_as_is, admin_user):
    from atende.reports.models import RollupState

    RollupState.objects.update_or_create(pk=1, defaults={"ready": False, "rebuild_started_at": None})
    HourStats.objects.all().delete()
    assert not rollups_ready()
    assert rollups_refresh()["rebuilt"] == 1
    assert rollups_ready() and HourStats.objects.exists()
    assert _summary(admin_user)["created"] == 3


def test_rebuild_command_takes_a_day_range(built):
    hours = _rows(HourStats, "hour", "team_id", "channel", "created")
    last = max(h for h, *_ in hours).date()
    HourStats.objects.filter(hour__date=last).delete()
    call_command("reports-rebuild", "--since", last.isoformat(), "--until", last.isoformat(), quiet=True)
    assert _rows(HourStats, "hour", "team_id", "channel", "created") == hours
    with pytest.raises(Exception, match="Not a date"):
        call_command("reports-rebuild", "--since", "yesterday")


def test_hour_buckets_are_utc_hours(built):
    assert all(h.minute == 0 and h.second == 0 and h.utcoffset() == datetime.timedelta(0)
               for h in HourStats.objects.values_list("hour", flat=True))

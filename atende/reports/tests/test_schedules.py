"""Scheduled reports: an admin sets one up from the settings pages; the minute job emails it through the outbound
queue (a real SMTP server here) with the per-day CSV attached and a link, once per due time, then moves on."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.email_channel.tests.servers import smtp_capture  # noqa: F401 - the fixture
from atende.reports.models import ReportSchedule
from atende.reports.services import report_schedule_save, report_schedules_send_due, schedule_next_run

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(("frequency", "after", "expected"), [
    # daily at 07:00 São Paulo (10:00 UTC)
    ("daily", datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
    ("daily", datetime.datetime(2026, 3, 2, 10, 0, tzinfo=UTC), datetime.datetime(2026, 3, 3, 10, 0, tzinfo=UTC)),
    # weekly on Wednesday (weekday 2): from a Monday, and from that Wednesday after the hour
    ("weekly", datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime.datetime(2026, 3, 4, 10, 0, tzinfo=UTC)),
    ("weekly", datetime.datetime(2026, 3, 4, 11, 0, tzinfo=UTC), datetime.datetime(2026, 3, 11, 10, 0, tzinfo=UTC)),
])
def test_next_sending_is_the_local_hour_after_now(frequency, after, expected):
    assert schedule_next_run(frequency=frequency, weekday=2, hour=7, time_zone="America/Sao_Paulo",
                             after=after) == expected


def test_next_sending_keeps_the_local_hour_across_daylight_saving_time():
    after = datetime.datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # London changes on 29 March
    runs = []
    for _ in range(30):
        after = schedule_next_run(frequency="daily", weekday=0, hour=7, time_zone="Europe/London", after=after)
        runs.append(after.astimezone(zoneinfo.ZoneInfo("Europe/London")))
    assert all(run.hour == 7 for run in runs)
    assert {run.utcoffset() for run in runs} == {datetime.timedelta(0), datetime.timedelta(hours=1)}


def _schedule(admin, **overrides):
    values = {"name": "Weekly support", "recipients": ["lead@help.example", "boss@help.example"],
              "frequency": "weekly", "weekday": 0, "hour": 7, "period": "7d"}
    return report_schedule_save(actor=admin, **{**values, **overrides})


def test_the_due_report_is_mailed_once_with_the_csv_and_a_link(scenario, admin_user, smtp_capture, settings,  # noqa: F811
                                                                django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://help.example.com"
    admin_user.time_zone = "America/Sao_Paulo"
    admin_user.save(update_fields=["time_zone"])
    # Due tomorrow (local), whatever day the suite runs: the report's seven days then hold the scenario's tickets,
    # created today. A fixed weekday had it due a week later on that day after the hour, with nothing to count.
    tomorrow = (timezone.now().astimezone(SAO_PAULO) + datetime.timedelta(days=1)).weekday()
    schedule = _schedule(admin_user, weekday=tomorrow)
    assert schedule.time_zone == "America/Sao_Paulo" and schedule.next_run_at > timezone.now()
    due = schedule.next_run_at
    assert due - timezone.now() < datetime.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):  # the queued mail is sent after commit
        assert report_schedules_send_due(now=due - datetime.timedelta(minutes=1)) == 0  # not yet
        assert report_schedules_send_due(now=due + datetime.timedelta(seconds=30)) == 1
        assert report_schedules_send_due(now=due + datetime.timedelta(seconds=40)) == 0  # moved on: not twice
    [mail] = smtp_capture.received
    message = mail.message
    assert sorted(mail.rcpt_tos) == ["boss@help.example", "lead@help.example"]
    assert message["Subject"].startswith("Report: Weekly support")
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    text = body.get_payload(decode=True).decode()
    assert "https://help.example.com/reports/?period=7d" in text
    assert "Tickets created: 3" in text and "First reply within SLA: 50% (1/2)" in text
    [attachment] = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_filename().endswith(".csv") and attachment.get_content_type() == "text/csv"
    header, *rows = list(csv.reader(io.StringIO(attachment.get_payload(decode=True).decode())))
    assert header[:3] == ["date", "created", "solved"] and len(rows) == 7
    assert sum(int(r[1]) for r in rows) == 3
    assert rows[-1][0] == (due + datetime.timedelta(seconds=30)).astimezone(SAO_PAULO).date().isoformat()
    schedule.refresh_from_db()
    assert schedule.next_run_at == due + datetime.timedelta(days=7)
    assert schedule.last_sent_at == due + datetime.timedelta(seconds=30)


def test_a_schedule_reads_with_its_owners_filters(scenario, admin_user, team, smtp_capture,  # noqa: F811
                                                  django_capture_on_commit_callbacks):
    schedule = _schedule(admin_user, frequency="daily", team=team, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        report_schedules_send_due(now=schedule.next_run_at)
    text = smtp_capture.received[0].message.get_payload(0).get_payload(decode=True).decode()
    assert "Tickets created: 1" in text  # the team's email ticket: "answered"
    assert f"team={team.pk}" in text and "channel=email" in text


def test_an_owner_who_is_no_longer_admin_stops_the_schedule(scenario, admin_user, smtp_capture):  # noqa: F811
    schedule = _schedule(admin_user)
    admin_user.role = "agent"
    admin_user.save(update_fields=["role"])
    assert report_schedules_send_due(now=schedule.next_run_at) == 0
    schedule.refresh_from_db()
    assert not schedule.is_active and not smtp_capture.received


@pytest.mark.parametrize(("overrides", "code"), [
    ({"recipients": []}, "recipients_required"),
    ({"recipients": ["not an address"]}, "invalid_recipient"),
    ({"recipients": [f"p{i}@x.example" for i in range(21)]}, "too_many_recipients"),
    ({"frequency": "hourly"}, "invalid_frequency"),
    ({"period": "forever"}, "invalid_period"),
    ({"hour": 24}, "invalid_time"),
    ({"name": "  "}, "name_required"),
])
def test_bad_input_is_refused_with_a_reason(admin_user, overrides, code):
    with pytest.raises(ValidationError) as error:
        _schedule(admin_user, **overrides)
    assert error.value.code == code
    assert not ReportSchedule.objects.exists()


def test_only_admins_schedule(agent):
    with pytest.raises(PermissionDenied):
        _schedule(agent)


def test_admin_sets_one_up_from_the_dashboard(client, admin_user, team):
    client.force_login(admin_user)
    dashboard = client.get(reverse("reports:dashboard"), {"period": "30d", "team": team.pk}).content.decode()
    link = reverse("reports:schedule_new") + f"?period=30d&amp;team={team.pk}"
    assert link in dashboard
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert '<option value="30d" selected>' in form and f'<option value="{team.pk}" selected>' in form
    response = client.post(reverse("reports:schedule_new"), {
        "name": "Support, daily", "recipients": "lead@help.example, boss@help.example", "frequency": "daily",
        "weekday": "0", "hour": "8", "period": "30d", "team": team.pk, "channel": "", "agent": "",
        "is_active": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("reports:schedules")
    schedule = ReportSchedule.objects.get()
    assert (schedule.recipients, schedule.team_id, schedule.hour) == (["lead@help.example", "boss@help.example"],
                                                                    team.pk, 8)
    listing = client.get(reverse("reports:schedules")).content.decode()
    assert "Support, daily" in listing and "Every day at 08:00" in listing
    bad = client.post(reverse("reports:schedule_edit", args=[schedule.pk]), {
        "name": "Support, daily", "recipients": "nobody", "frequency": "daily", "weekday": "0", "hour": "8",
        "period": "30d"})
    assert bad.status_code == 200 and "is not an email address" in bad.content.decode()
    assert client.post(reverse("reports:schedule_delete", args=[schedule.pk])).status_code == 302
    assert not ReportSchedule.objects.exists()


@pytest.mark.parametrize("who", ["agent", "customer"])
def test_schedule_pages_are_for_admins(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("reports:schedules")).status_code == 404
    assert client.post(reverse("reports:schedule_new"), {"name": "x"}).status_code == 404
    assert not ReportSchedule.objects.exists()


def test_agents_see_no_schedule_button_and_a_bad_agent_id_shows_the_default_report(client, agent):
    AgentFactory()
    client.force_login(agent)
    response = client.get(reverse("reports:dashboard"), {"agent": "999999"})
    assert response.status_code == 200
    assert "Email this report regularly" not in response.content.decode()

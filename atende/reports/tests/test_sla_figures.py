"""SLA figures agree with the tickets: targets met and missed through the real SLA clocks (events delivered),
read on the page and in the CSV, from the ticket table, from rebuilt rollups and from rollups kept by the minute
job, for a viewer whose local day is not the UTC day. And the demo desk shows non-zero, plausible figures that
equal what its tickets' SLA clocks say."""

import csv
import datetime
import io
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from atende.core.actor import Actor
from atende.reports.selectors import report_scope, report_summary, report_timeseries
from atende.sla.services.clocks import sla_check_due
from atende.sla.services.definitions import policy_save
from atende.tickets.services import message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
M = datetime.timedelta(minutes=1)
METRICS = ("first_reply", "next_reply", "resolution")
# Tickets created on day D (São Paulo): (met, decided) per target; see ``desk``.
EXPECTED = {"first_reply": (2, 4), "next_reply": (1, 2), "resolution": (1, 3)}


@pytest.fixture
def desk(db, team, agent, customer, admin_user, deliver):
    """On local day D (two days ago, 22:30 in São Paulo, which is 01:30 UTC the day after), tickets of a team
    whose SLA is first reply 60 min, next reply 30 min, resolution 240 min (calendar time):

    * ``fast``: replies after 30 min, answers the customer's follow-up in 20 min, solved after 2 h: all met.
    * ``slow``: replies after 90 min, answers the follow-up in 60 min, solved after 5 h: all missed (3 breach
      events, recorded as the late replies and the solve happen).
    * ``overdue``: never answered: both targets are past due but the minute job has not recorded the breaches.
    * ``paused``: answered after 10 min (met), then pending: resolution paused, not decided.
    * ``waiting`` (created 10 minutes ago): nothing due yet, nothing decided.
    * one ticket of another team without SLA: no target.
    """
    policy_save(name="Team SLA", conditions={"all": [{"field": "team", "op": "is", "value": team.pk}]},
                first_reply_minutes=60, next_reply_minutes=30, resolution_minutes=240, business_hours=False,
                warn_before_minutes=10)
    admin_user.time_zone = "America/Sao_Paulo"
    admin_user.save(update_fields=["time_zone"])
    local_day = timezone.now().astimezone(SAO_PAULO).date() - datetime.timedelta(days=2)
    start = datetime.datetime.combine(local_day, datetime.time(22, 30), tzinfo=SAO_PAULO)
    assert start.astimezone(datetime.UTC).date() != local_day
    staff, person = Actor.for_user(agent), Actor.for_user(customer)

    def ticket(at, **kwargs):
        return deliver(make_ticket, requester=customer, actor=staff, team=team, created_at=at, **kwargs)

    def reply(t, actor, minutes, **kwargs):
        deliver(message_add_reply, ticket=t, actor=actor, body_text="…", created_at=start + minutes * M, **kwargs)

    fast = ticket(start)
    reply(fast, staff, 30)
    reply(fast, person, 60)
    reply(fast, staff, 80)
    deliver(ticket_transition, ticket=fast, to="solved", actor=staff, now=start + 120 * M)
    slow = ticket(start)
    reply(slow, staff, 90)
    reply(slow, person, 120)
    reply(slow, staff, 180)
    deliver(ticket_transition, ticket=slow, to="solved", actor=staff, now=start + 300 * M)
    overdue = ticket(start)
    paused = ticket(start)
    reply(paused, staff, 10)
    deliver(ticket_transition, ticket=paused, to="pending", actor=staff, now=start + 15 * M)
    waiting = ticket(timezone.now() - 10 * M)
    other = deliver(make_ticket, requester=customer, actor=staff, created_at=start)
    return {"day": local_day, "fast": fast, "slow": slow, "overdue": overdue, "paused": paused, "waiting": waiting,
            "other": other, "viewer": admin_user}


def _text(html: str, kpi: str) -> str:
    match = re.search(rf'data-kpi="{kpi}">(.*?)</dd>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def _csv(client, **params) -> dict[str, dict[str, str]]:
    response = client.get(reverse("reports:export_csv"), params)
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def _check_page_and_csv(client, desk, breaches: int) -> None:
    client.force_login(desk["viewer"])
    html = client.get(reverse("reports:dashboard"), {"period": "7d"}).content.decode()
    assert _text(html, "first_reply_sla") == "50% 2 of 4"
    assert _text(html, "next_reply_sla") == "50% 1 of 2"
    assert _text(html, "resolution_sla") == "33% 1 of 3"
    assert _text(html, "sla_breaches") == str(breaches)
    rows = _csv(client, period="7d")
    day, today = rows[desk["day"].isoformat()], rows[timezone.now().astimezone(SAO_PAULO).date().isoformat()]
    for metric, (met, decided) in EXPECTED.items():
        label = metric.replace("_", " ")
        assert (day[f"{label} SLA met"], day[f"{label} SLA decided"]) == (str(met), str(decided)), metric
        assert (today[f"{label} SLA met"], today[f"{label} SLA decided"]) == ("0", "0"), metric  # ``waiting``
    assert (day["created"], day["solved"]) == ("5", "0")  # both solves happen after local midnight
    assert sum(int(r["SLA breaches"]) for r in rows.values()) == breaches
    assert today["SLA breaches"] == str(breaches)  # breach events are dated when they were recorded: now


def test_met_and_missed_targets_on_the_page_and_in_the_csv(client, desk, report_source):
    _check_page_and_csv(client, desk, breaches=3)
    sla_check_due()  # the minute job records the overdue ticket's two breaches: counted, figures unchanged
    _check_page_and_csv(client, desk, breaches=5)


def test_a_target_met_today_shows_in_todays_csv_row(client, desk, team, agent, customer, deliver, report_source):
    """What the timeline says ("SLA target achieved") is what the day's CSV row counts."""
    new = deliver(make_ticket, requester=customer, actor=Actor.for_user(agent), team=team)
    deliver(message_add_reply, ticket=new, actor=Actor.for_user(agent), body_text="Hello")
    assert new.events.filter(type="SLA_ACHIEVED", data__metric="first_reply").exists()
    client.force_login(desk["viewer"])
    today = _csv(client, period="7d")[timezone.now().astimezone(SAO_PAULO).date().isoformat()]
    assert (today["first reply SLA met"], today["first reply SLA decided"]) == ("1", "1")


def _figures(user, source: str):
    with timezone.override(SAO_PAULO):
        scope = report_scope(period="7d")
        summary = report_summary(user=user, scope=scope, source=source)
        series = report_timeseries(user=user, scope=scope, source=source)
    keys = [f"{m}_{k}" for m in METRICS for k in ("met", "decided", "pct")] + ["sla_breaches"]
    return {k: summary[k] for k in keys}, [{k: row[k] for k in ("day", *keys)} for row in series]


def test_the_minute_job_keeps_the_rollups_equal_to_the_tickets(db, rollups_as_is, django_capture_on_commit_callbacks,
                                                               request):
    from atende.reports.selectors import rollups_ready
    from atende.reports.services import rollups_rebuild, rollups_refresh

    rollups_rebuild()  # an empty, ready desk: from now on only events and the minute job keep the rollups
    assert rollups_ready()
    desk = request.getfixturevalue("desk")
    rollups_refresh()
    viewer = desk["viewer"]
    summary, series = _figures(viewer, "auto")
    assert (summary, series) == _figures(viewer, "live")
    assert {m: (summary[f"{m}_met"], summary[f"{m}_decided"]) for m in METRICS} == EXPECTED
    with django_capture_on_commit_callbacks(execute=True):  # breach events mark the ticket for the next refresh
        sla_check_due()
    rollups_refresh()
    assert _figures(viewer, "auto") == _figures(viewer, "live")
    assert _figures(viewer, "auto")[0]["sla_breaches"] == 5


def test_the_demo_desk_shows_plausible_figures_that_match_its_sla_clocks(db, report_source):
    """The demo's back-dated tickets get SLA replayed over their history: met and missed targets, breach events
    dated when they happened; the dashboard says what the clocks say."""
    from atende.accounts.models import User
    from atende.reports.demo import load_demo as reports_demo
    from atende.sla.demo import load_demo as sla_demo
    from atende.sla.models import SlaClock
    from atende.tickets.models import TicketEvent
    from atende.tickets.seed.demo import load_demo as tickets_demo

    tickets_demo(tickets=80)
    sla_demo()
    reports_demo()
    admin = User.objects.get(email="admin@atende.test")
    scope = report_scope(period="30d")
    summary = report_summary(user=admin, scope=scope)
    clocks = SlaClock.objects.filter(ticket__created_at__gte=scope.since, ticket__created_at__lt=scope.until,
                                     ticket__is_spam=False)
    for metric in METRICS:
        mine = [c for c in clocks if c.metric == metric and c.state != "cancelled"]
        met = sum(1 for c in mine if c.state == "fulfilled" and c.breached_at is None)
        decided = sum(1 for c in mine if c.state == "fulfilled" or c.breached_at is not None
                      or (c.state == "running" and c.due_at < scope.until))
        assert (summary[f"{metric}_met"], summary[f"{metric}_decided"]) == (met, decided), metric
    for metric in ("first_reply", "resolution"):
        assert 0 < summary[f"{metric}_met"] < summary[f"{metric}_decided"], metric  # some met, some missed
    breached = SlaClock.objects.filter(breached_at__gte=scope.since, breached_at__lt=scope.until).count()
    assert summary["sla_breaches"] == breached > 0
    assert TicketEvent.objects.filter(type="SLA_BREACHED").count() == SlaClock.objects.exclude(breached_at=None).count()

"""The dashboard's charts: one spec per chart feeds the chart, the table beneath it and its CSV; the agent filter;
satisfaction over time."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory
from atende.reports.selectors import report_satisfaction_series, report_scope, report_summary

pytestmark = pytest.mark.django_db
URL = reverse("reports:dashboard")


def _specs(html: str) -> dict:
    raw = re.search(r'<script id="report-charts" type="application/json">(.*?)</script>', html, re.S).group(1)
    return {spec["id"]: spec for spec in json.loads(raw)}


def _table(html: str, chart: str) -> list[list[str]]:
    table = re.search(rf'<table class="list" data-chart-table="{chart}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _number(text: str):
    return None if text == "—" else float(text)


def test_each_chart_plots_the_figures_of_its_table_and_its_csv(client, scenario, admin_user):
    client.force_login(admin_user)
    html = client.get(URL, {"period": "7d"}).content.decode()
    specs = _specs(html)
    assert list(specs) == ["volume", "times", "sla", "satisfaction"]
    assert "<script>" not in html and " onload=" not in html  # data in json_script, code in static files
    for chart_id, spec in specs.items():
        table = _table(html, chart_id)
        assert [row[0] for row in table] == spec["labels"]
        for column, series in enumerate(spec["series"], start=1):
            assert [_number(row[column]) for row in table] == series["values"], (chart_id, series["key"])
        response = client.get(reverse("reports:export_csv"), {"period": "7d", "chart": chart_id})
        header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert header[0] == "date" and len(rows) == len(table) == 7
        for column, series in enumerate(spec["series"], start=1):
            assert header[column] == series["label"]
            assert [None if r[column] == "" else float(r[column]) for r in rows] == series["values"]
    volume = specs["volume"]["series"]
    assert sum(volume[0]["values"]) == 3 and sum(volume[1]["values"]) == 1  # created, solved
    assert specs["satisfaction"]["series"][0]["values"][-1] == 100  # the one rating, sent today


def test_weekly_periods_chart_weeks(client, scenario, admin_user):
    client.force_login(admin_user)
    html = client.get(URL, {"period": "90d"}).content.decode()
    specs = _specs(html)
    assert specs["volume"]["bucket"] == "Week of"
    assert 13 <= len(specs["volume"]["labels"]) <= 14
    assert sum(specs["volume"]["series"][0]["values"]) == 4


def test_the_agent_filter_counts_the_agents_tickets(client, scenario, agent, admin_user):
    other = AgentFactory(name="Zoe Other")
    client.force_login(admin_user)
    html = client.get(URL, {"agent": agent.pk, "period": "30d"}).content.decode()
    assert re.search(r'data-kpi="created">2<', html)  # solved and answered are assigned to the agent
    assert re.search(r'data-kpi="created">0<', client.get(URL, {"agent": other.pk}).content.decode())
    summary = report_summary(user=admin_user, scope=report_scope(assignee_id=agent.pk))
    assert (summary["created"], summary["solved"], summary["sla_breaches"]) == (2, 1, 2)
    assert f'<option value="{agent.pk}" selected>' in html


def test_satisfaction_over_time_counts_the_ratings_of_the_period(scenario, admin_user, agent, other_team):
    rows = report_satisfaction_series(user=admin_user, scope=report_scope(period="7d"))
    assert len(rows) == 7
    assert sum(r["good"] for r in rows) == 1 and sum(r["bad"] for r in rows) == 0
    assert [r["score"] for r in rows if r["good"]] == [100]
    assert sum(r["good"] for r in report_satisfaction_series(
        user=admin_user, scope=report_scope(period="7d", team_id=other_team.pk))) == 0

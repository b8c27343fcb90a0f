"""The dashboard's time-series charts. Each chart is one spec (title, unit, buckets, series) from which the page
draws the chart (``static/reports/charts.js`` reads the specs through ``json_script``), the table beneath it and
the chart's CSV, so the three always show the same figures."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: list
    plotted: bool = True  # False: a column of the table and the CSV only


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str  # "count", "hours" or "percent"
    kind: str  # "bars" or "lines"
    days: list[datetime.date]
    series: list[Series] = field(default_factory=list)
    weekly: bool = False

    @property
    def bucket(self) -> str:
        return _("Week of") if self.weekly else _("Day")

    @property
    def labels(self) -> list[str]:
        return [date_format(day, "D j N") for day in self.days]

    @property
    def rows(self) -> list[tuple[str, list]]:
        """(bucket label, one value per series) for the table."""
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]

    def spec(self) -> dict:
        """What the chart script needs, plain JSON."""
        return {"id": self.id, "title": self.title, "unit": self.unit, "kind": self.kind, "bucket": self.bucket,
                "labels": self.labels,
                "series": [{"key": s.key, "label": s.label, "values": s.values} for s in self.series if s.plotted]}

    def csv_rows(self) -> list[list]:
        header = [_("date"), *(s.label for s in self.series)]
        return [header, *([day.isoformat(), *("" if s.values[i] is None else s.values[i] for s in self.series)]
                          for i, day in enumerate(self.days))]


CHART_IDS = ("volume", "times", "sla", "satisfaction")


def report_charts(*, timeseries: list[dict], satisfaction_series: list[dict], weekly: bool = False) -> list[Chart]:
    """The four charts of the dashboard, from ``report_timeseries`` and ``report_satisfaction_series`` rows (same
    buckets: days, or weeks when ``weekly``)."""
    days = [row["day"] for row in timeseries]
    by_day = {row["day"]: row for row in satisfaction_series}
    rated = [by_day.get(day, {"good": 0, "bad": 0, "score": None}) for day in days]

    def column(key, rows=timeseries):
        return [row[key] for row in rows]

    def chart(*args, **kwargs):
        return Chart(*args, weekly=weekly, **kwargs)

    return [
        chart("volume", _("Tickets created and solved"), "count", "bars", days, [
            Series("created", _("Created"), column("created")),
            Series("solved", _("Solved"), column("solved"))]),
        chart("times", _("First reply and resolution times (hours)"), "hours", "lines", days, [
            Series("first_response_hours", _("Average first response (h)"), column("first_response_hours")),
            Series("resolution_hours", _("Average resolution (h)"), column("resolution_hours"))]),
        chart("sla", _("SLA attainment (%)"), "percent", "lines", days, [
            Series("first_reply_pct", _("First reply within SLA (%)"), column("first_reply_pct")),
            Series("next_reply_pct", _("Next reply within SLA (%)"), column("next_reply_pct")),
            Series("resolution_pct", _("Resolved within SLA (%)"), column("resolution_pct")),
            Series("sla_breaches", _("SLA breaches"), column("sla_breaches"), plotted=False)]),
        chart("satisfaction", _("Good ratings (%)"), "percent", "lines", days, [
            Series("score", _("Good ratings (%)"), column("score", rated)),
            Series("good", _("Good"), column("good", rated), plotted=False),
            Series("bad", _("Bad"), column("bad", rated), plotted=False)]),
    ]

"""The per-day CSV of a report: the page's "Download CSV (per day)" and the scheduled report's attachment."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.reports.selectors import ReportScope, report_timeseries


def _cell(value) -> str:
    return "" if value is None else str(value)


def report_csv_rows(*, user: User, scope: ReportScope) -> list[list]:
    """The period's key figures, one row per day in the user's time zone (header first): the page's "Download
    CSV" and the scheduled report's attachment."""
    rows = report_timeseries(user=user, scope=scope, bucket="day")
    table = [[_("date"), _("created"), _("solved"), _("average first response (hours)"),
              _("average resolution (hours)"), _("first reply SLA met"), _("first reply SLA decided"),
              _("next reply SLA met"), _("next reply SLA decided"), _("resolution SLA met"),
              _("resolution SLA decided"), _("SLA breaches")]]
    for row in rows:
        table.append([row["day"].isoformat(), row["created"], row["solved"], _cell(row["first_response_hours"]),
                      _cell(row["resolution_hours"]), row["first_reply_met"], row["first_reply_decided"],
                      row["next_reply_met"], row["next_reply_decided"], row["resolution_met"],
                      row["resolution_decided"], row["sla_breaches"]])
    return table


def csv_bytes(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")

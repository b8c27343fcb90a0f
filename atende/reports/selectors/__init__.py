"""Reads for the reports dashboard and its CSV export (the only read path: the views never know where a figure
came from).

For a viewer who sees every ticket, the figures come from the summary tables (``reports.models``, kept current
by ``services.rollups_refresh``) for whole past hours and days, and from the ticket table for the rest of the
period (the current hour or day, and the hours the rollups cannot answer exactly); for a viewer restricted to
their teams (who also sees tickets assigned to them or that they follow, which per-team rollups cannot express)
everything comes from the ticket table. Both read the same measures, so they give the same figures
(``scope.py`` says which part comes from where, ``reads.py`` runs the queries, ``figures.py`` builds the
figures). No query loads tickets into Python, and the number of queries does not depend on how many there are.

Times are averages on every database. PostgreSQL also gives medians, read from duration histograms
(``expressions.histogram_median``); SQLite does not show them.
"""

from atende.reports.selectors.figures import (
    report_backlog,
    report_breakdowns,
    report_by_agent,
    report_by_team,
    report_dashboard,
    report_deflections,
    report_satisfaction,
    report_satisfaction_series,
    report_summary,
    report_timeseries,
)
from atende.reports.selectors.reads import Reads, medians_supported, report_ticket_base, rollups_ready
from atende.reports.selectors.schedules import report_schedule_list
from atende.reports.selectors.scope import DEFAULT_PERIOD, PERIODS, ReportScope, report_scope

__all__ = [
    "DEFAULT_PERIOD", "PERIODS", "Reads", "ReportScope", "medians_supported", "report_backlog", "report_breakdowns",
    "report_by_agent", "report_by_team", "report_dashboard", "report_deflections", "report_satisfaction",
    "report_satisfaction_series", "report_schedule_list", "report_scope", "report_summary", "report_ticket_base", "report_timeseries", "rollups_ready",
]

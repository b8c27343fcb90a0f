"""The reports dashboard and its CSV export: read-only, for console users (agents, admins, collaborators)."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from atende.accounts.decorators import staff_required
from atende.reports.charts import CHART_IDS, report_charts
from atende.reports.exports import report_csv_rows
from atende.reports.forms import ReportFilterForm
from atende.reports.selectors import report_dashboard, report_satisfaction_series, report_scope, report_timeseries


def _scope(request):
    form = ReportFilterForm(request.GET or None, user=request.user)
    return form, report_scope(**form.scope_arguments()) if form.is_bound else report_scope()


@staff_required
def dashboard(request):
    form, scope = _scope(request)
    data = report_dashboard(user=request.user, scope=scope)
    charts = report_charts(timeseries=data["timeseries"], satisfaction_series=data["satisfaction_series"],
                           weekly=scope.bucket == "week")
    query = request.GET.copy()
    query.pop("chart", None)
    context = {
        "form": form,
        "scope": scope,
        "query": query.urlencode(),
        "charts": charts,
        "chart_specs": [chart.spec() for chart in charts],
        "channel_max": max([r["n"] for r in data["breakdowns"]["by_channel"]] or [0]),
        "category_max": max([r["n"] for r in data["breakdowns"]["by_category"]] or [0]),
        "tag_max": max([r["n"] for r in data["breakdowns"]["by_tag"]] or [0]),
        "status_max": max([r["n"] for r in data["backlog"]["by_status"]] or [0]),
        "priority_max": max([r["n"] for r in data["backlog"]["by_priority"]] or [0]),
        **data,
    }
    return render(request, "reports/dashboard.html", context)


def _csv_response(scope, name: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(scope.until).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="atende-{name}-{scope.period}-{stamp}.csv"'
    return response, csv.writer(response)


@staff_required
def export_csv(request):
    """The period's key figures, one row per day (in the user's time zone); with ``chart=<id>``, one chart's
    figures per bucket of the page (what its table shows)."""
    _form, scope = _scope(request)
    chart_id = request.GET.get("chart", "")
    if chart_id in CHART_IDS:
        timeseries = report_timeseries(user=request.user, scope=scope)
        satisfaction = report_satisfaction_series(user=request.user, scope=scope)
        charts = report_charts(timeseries=timeseries, satisfaction_series=satisfaction, weekly=scope.bucket == "week")
        chart = next(c for c in charts if c.id == chart_id)
        response, writer = _csv_response(scope, f"report-{chart_id}")
        writer.writerows(chart.csv_rows())
        return response
    response, writer = _csv_response(scope, "report")
    writer.writerows(report_csv_rows(user=request.user, scope=scope))
    return response

"""The reports dashboard and its CSV export: read-only, for console users (agents, admins, collaborators)."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.accounts.decorators import staff_required
from atende.reports.forms import ReportFilterForm
from atende.reports.selectors import report_dashboard, report_scope, report_timeseries


def _scope(request):
    form = ReportFilterForm(request.GET or None, user=request.user)
    return form, report_scope(**form.scope_arguments()) if form.is_bound else report_scope()


@staff_required
def dashboard(request):
    form, scope = _scope(request)
    data = report_dashboard(user=request.user, scope=scope)
    series = data["timeseries"]
    context = {
        "form": form,
        "scope": scope,
        "query": request.GET.urlencode(),
        "series_max": max([max(r["created"], r["solved"]) for r in series] or [0]),
        "channel_max": max([r["n"] for r in data["breakdowns"]["by_channel"]] or [0]),
        "category_max": max([r["n"] for r in data["breakdowns"]["by_category"]] or [0]),
        "tag_max": max([r["n"] for r in data["breakdowns"]["by_tag"]] or [0]),
        "status_max": max([r["n"] for r in data["backlog"]["by_status"]] or [0]),
        "priority_max": max([r["n"] for r in data["backlog"]["by_priority"]] or [0]),
        **data,
    }
    return render(request, "reports/dashboard.html", context)


def _cell(value) -> str:
    return "" if value is None else str(value)


@staff_required
def export_csv(request):
    """The period's key figures, one row per day (in the user's time zone)."""
    _form, scope = _scope(request)
    rows = report_timeseries(user=request.user, scope=scope, bucket="day")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(scope.until).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="atende-report-{scope.period}-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow([_("date"), _("created"), _("solved"), _("average first response (hours)"),
                     _("average resolution (hours)"), _("first reply SLA met"), _("first reply SLA decided"),
                     _("next reply SLA met"), _("next reply SLA decided"), _("resolution SLA met"),
                     _("resolution SLA decided"), _("SLA breaches")])
    for row in rows:
        writer.writerow([row["day"].isoformat(), row["created"], row["solved"], _cell(row["first_response_hours"]),
                         _cell(row["resolution_hours"]), row["first_reply_met"], row["first_reply_decided"],
                         row["next_reply_met"], row["next_reply_decided"], row["resolution_met"],
                         row["resolution_decided"], row["sla_breaches"]])
    return response

"""Scheduled reports' settings pages (admins only): the list, a form to create or change one, delete."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import admin_required
from atende.core.exceptions import DomainError
from atende.reports.forms import ReportFilterForm, ScheduleForm
from atende.reports.models import ReportSchedule
from atende.reports.selectors import report_schedule_list
from atende.reports.services import report_schedule_delete, report_schedule_save

FIELDS = ("name", "frequency", "weekday", "hour", "period", "team", "channel", "agent", "is_active")


@admin_required
def schedule_list(request):
    schedules = report_schedule_list()
    return render(request, "reports/schedule_list.html", {"schedules": schedules})


@admin_required
def schedule_edit(request, schedule_id: int | None = None):
    schedule = get_object_or_404(ReportSchedule, pk=schedule_id) if schedule_id else None
    if request.method == "POST":
        form = ScheduleForm(request.POST)
        if form.is_valid():
            try:
                schedule = report_schedule_save(actor=request.user, schedule=schedule, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved “%(name)s”.") % {"name": schedule.name})
                return redirect("reports:schedules")
    elif schedule is not None:
        form = ScheduleForm(initial={**{f: getattr(schedule, f) for f in FIELDS},
                                     "recipients": "\n".join(schedule.recipients)})
    else:  # from the dashboard's "Email this report regularly": its filters, the admin as first recipient
        filters = ReportFilterForm(request.GET or None, user=request.user)
        scope = filters.scope_arguments() if filters.is_bound else {}
        form = ScheduleForm(initial={"recipients": request.user.email, "period": scope.get("period", "7d"),
                                     "team": scope.get("team_id"), "channel": scope.get("channel") or "",
                                     "agent": scope.get("assignee_id")})
    return render(request, "reports/schedule_form.html", {"form": form, "schedule": schedule})


@admin_required
@require_POST
def schedule_remove(request, schedule_id: int):
    schedule = get_object_or_404(ReportSchedule, pk=schedule_id)
    report_schedule_delete(actor=request.user, schedule=schedule)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": schedule.name})
    return redirect("reports:schedules")

"""Reads for the scheduled reports' settings pages."""

from __future__ import annotations

from django.db.models import QuerySet

from atende.reports.models import ReportSchedule


def report_schedule_list() -> QuerySet[ReportSchedule]:
    return ReportSchedule.objects.select_related("team", "agent", "owner").order_by("name", "id")

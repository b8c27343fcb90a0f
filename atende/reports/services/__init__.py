"""Writes of the reports app: the rollups (``rollups.py``) and the scheduled reports (``schedules.py``)."""

from atende.reports.services.rollups import (
    rollups_mark_tickets,
    rollups_rebuild,
    rollups_recompute_days,
    rollups_recompute_hours,
    rollups_refresh,
)
from atende.reports.services.schedules import (
    report_schedule_delete,
    report_schedule_save,
    report_schedules_send_due,
    schedule_next_run,
)

__all__ = [
    "report_schedule_delete", "report_schedule_save", "report_schedules_send_due", "rollups_mark_tickets",
    "rollups_rebuild", "rollups_recompute_days", "rollups_recompute_hours", "rollups_refresh", "schedule_next_run",
]

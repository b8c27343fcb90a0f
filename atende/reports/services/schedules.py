"""Scheduled reports: an admin has a report emailed every day or every week, the per-day CSV attached and a link
to the dashboard with the same filters. ``report_schedules_send_due`` is the periodic job (``core/scheduler.py``);
each sending is one transaction that queues the mail (``email_channel``'s outbound queue, deduplicated per
schedule and due time) and moves ``next_run_at`` on, so a crash or a second scheduler never sends one twice."""

from __future__ import annotations

import datetime
import zoneinfo
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError as FieldErrors
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.accounts.models import Team, User
from atende.audit.services import audit_settings_change, audit_settings_saved, model_snapshot
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.email_channel.services.outbound import mail_queue
from atende.reports.choices import ReportFrequency
from atende.reports.exports import csv_bytes, report_csv_rows
from atende.reports.models import ReportSchedule
from atende.reports.selectors import PERIODS, report_scope, report_summary
from atende.tickets.choices import Channel

MAX_RECIPIENTS = 20


def schedule_next_run(*, frequency: str, weekday: int, hour: int, time_zone: str,
                      after: datetime.datetime) -> datetime.datetime:
    """The first sending strictly after ``after``: ``hour`` o'clock in ``time_zone``, every day or on ``weekday``
    (0 = Monday). An hour that a daylight-saving change skips is read with the offset before the change."""
    zone = zoneinfo.ZoneInfo(time_zone)
    day = after.astimezone(zone).date()
    for offset in range(9):
        candidate_day = day + datetime.timedelta(days=offset)
        if frequency == ReportFrequency.WEEKLY and candidate_day.weekday() != weekday:
            continue
        candidate = datetime.datetime.combine(candidate_day, datetime.time(hour), tzinfo=zone)
        if candidate > after:
            return candidate.astimezone(datetime.UTC)
    raise AssertionError("a week always holds the weekday")


def _clean_recipients(recipients) -> list[str]:
    emails = [str(r).strip().lower() for r in recipients or [] if str(r).strip()]
    emails = list(dict.fromkeys(emails))
    if not emails:
        raise ValidationError("Give at least one recipient.", code="recipients_required",
                              details={"recipients": "required"})
    if len(emails) > MAX_RECIPIENTS:
        raise ValidationError(f"At most {MAX_RECIPIENTS} recipients.", code="too_many_recipients",
                              details={"recipients": "too many"})
    for email in emails:
        try:
            validate_email(email)
        except FieldErrors:
            raise ValidationError(f"“{email}” is not an email address.", code="invalid_recipient",
                                  details={"recipients": email})
    return emails


# Scheduling bookkeeping is not what the administrator set: only the settings are compared.
AUDIT_EXCLUDE = ("next_run_at", "last_sent_at")


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDenied("Only administrators schedule reports.")


@transaction.atomic
def report_schedule_save(*, actor: User, schedule: ReportSchedule | None = None, name: str, recipients,
                         frequency: str, weekday: int = 0, hour: int = 7, period: str = "7d",
                         team: Team | None = None, channel: str = "", agent: User | None = None,
                         is_active: bool = True, now: datetime.datetime | None = None) -> ReportSchedule:
    """Create or change a schedule. The report is read with the visibility of the admin who saves it, and in their
    time zone and language (the days of the CSV, the texts of the mail)."""
    _require_admin(actor)
    if frequency not in ReportFrequency.values:
        raise ValidationError("Choose every day or every week.", code="invalid_frequency")
    if period not in PERIODS:
        raise ValidationError("Unknown period.", code="invalid_period")
    if channel and channel not in Channel.values:
        raise ValidationError("Unknown channel.", code="invalid_channel")
    if not (0 <= int(weekday) <= 6 and 0 <= int(hour) <= 23):
        raise ValidationError("Choose a weekday and an hour of the day.", code="invalid_time")
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationError("Give the report a name.", code="name_required", details={"name": "required"})
    before = {}
    if schedule is None:
        schedule = ReportSchedule(owner=actor)
    else:
        schedule = ReportSchedule.objects.select_for_update().get(pk=schedule.pk)
        before = model_snapshot(schedule, exclude=AUDIT_EXCLUDE)
        schedule.owner = actor
    schedule.name, schedule.recipients, schedule.frequency = name, _clean_recipients(recipients), frequency
    schedule.weekday, schedule.hour, schedule.period = int(weekday), int(hour), period
    schedule.team, schedule.channel, schedule.agent, schedule.is_active = team, channel or "", agent, is_active
    schedule.time_zone = actor.time_zone or settings.TIME_ZONE
    schedule.language = actor.locale or settings.LANGUAGE_CODE
    schedule.next_run_at = schedule_next_run(frequency=frequency, weekday=schedule.weekday, hour=schedule.hour,
                                             time_zone=schedule.time_zone, after=now or timezone.now())
    schedule.full_clean()
    schedule.save()
    audit_settings_saved(actor=actor, target=schedule, before=before, exclude=AUDIT_EXCLUDE)
    return schedule


@transaction.atomic
def report_schedule_delete(*, actor: User, schedule: ReportSchedule) -> None:
    _require_admin(actor)
    audit_settings_change(actor=actor, target=schedule, operation="deleted",
                          before=model_snapshot(schedule, exclude=AUDIT_EXCLUDE))
    ReportSchedule.objects.filter(pk=schedule.pk).delete()


def report_link(schedule: ReportSchedule) -> str:
    """The dashboard with the schedule's filters."""
    params = {"period": schedule.period}
    if schedule.team_id:
        params["team"] = schedule.team_id
    if schedule.channel:
        params["channel"] = schedule.channel
    if schedule.agent_id:
        params["agent"] = schedule.agent_id
    return f"{settings.SITE_URL}{reverse('reports:dashboard')}?{urlencode(params)}"


def _body(schedule: ReportSchedule, summary: dict, since: datetime.date, until: datetime.date) -> str:
    def share(metric: str) -> str:
        pct = summary[f"{metric}_pct"]
        return "—" if pct is None else f"{pct}% ({summary[f'{metric}_met']}/{summary[f'{metric}_decided']})"

    lines = [
        _("%(name)s, from %(since)s to %(until)s.") % {"name": schedule.name, "since": since.isoformat(),
                                                        "until": until.isoformat()},
        "",
        _("Tickets created: %(n)s") % {"n": summary["created"]},
        _("Tickets solved: %(n)s") % {"n": summary["solved"]},
        _("First reply within SLA: %(share)s") % {"share": share("first_reply")},
        _("Next reply within SLA: %(share)s") % {"share": share("next_reply")},
        _("Resolved within SLA: %(share)s") % {"share": share("resolution")},
        _("SLA breaches: %(n)s") % {"n": summary["sla_breaches"]},
        "",
        _("The attached CSV has one row per day. The full report, with charts:"),
        report_link(schedule),
    ]
    return "\n".join(lines)


@transaction.atomic
def _send(schedule_id: int, now: datetime.datetime) -> bool:
    schedule = (ReportSchedule.objects.select_for_update().select_related("owner")
                .filter(pk=schedule_id, is_active=True, next_run_at__lte=now).first())
    if schedule is None:  # sent by another worker meanwhile, or switched off
        return False
    due = schedule.next_run_at
    schedule.next_run_at = schedule_next_run(frequency=schedule.frequency, weekday=schedule.weekday,
                                             hour=schedule.hour, time_zone=schedule.time_zone, after=max(due, now))
    owner = schedule.owner
    if not (owner.is_active and owner.is_admin):  # the report would be read with rights nobody holds any more
        schedule.is_active = False
        schedule.save(update_fields=["next_run_at", "is_active", "updated_at"])
        return False
    with translation.override(schedule.language), timezone.override(zoneinfo.ZoneInfo(schedule.time_zone)):
        scope = report_scope(period=schedule.period, team_id=schedule.team_id, channel=schedule.channel or None,
                             assignee_id=schedule.agent_id, now=now)
        summary = report_summary(user=owner, scope=scope)
        since, until = timezone.localtime(scope.since).date(), timezone.localtime(scope.until).date()
        rows = report_csv_rows(user=owner, scope=scope)
        subject = _("Report: %(name)s (%(until)s)") % {"name": schedule.name, "until": until.isoformat()}
        body = _body(schedule, summary, since, until)
    mail_queue(to=schedule.recipients, subject=subject, body_text=body, kind="report",
               dedupe_key=f"report-schedule:{schedule.pk}:{due.isoformat()}",
               files=[(f"atende-report-{schedule.period}-{until:%Y%m%d}.csv", csv_bytes(rows), "text/csv")])
    schedule.last_sent_at = now
    schedule.save(update_fields=["next_run_at", "last_sent_at", "updated_at"])
    return True


def report_schedules_send_due(*, now: datetime.datetime | None = None, limit: int = 50) -> int:
    """Send every schedule whose time has come (each in its own transaction); returns how many were sent."""
    now = now or timezone.now()
    due = list(ReportSchedule.objects.filter(is_active=True, next_run_at__lte=now).order_by("next_run_at")
               .values_list("pk", flat=True)[:limit])
    return sum(_send(pk, now) for pk in due)

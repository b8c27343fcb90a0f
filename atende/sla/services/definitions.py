"""Saving calendars and SLA policies (validated: a bad definition is refused with a readable message)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import transaction
from django.db.models import Max

from atende.accounts.models import Team
from atende.audit.services import audit_settings_change, audit_settings_saved, model_snapshot
from atende.core import generations
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.rules import actions as A
from atende.rules.conditions import validate_conditions
from atende.sla.business_time import CalendarSpec, parse_hhmm
from atende.sla.models import BusinessCalendar, BusinessHours, CalendarTeam, Holiday, SlaPolicy
from atende.sla.selectors import CALENDARS, POLICIES

POLICY_FIELDS = ("priority", "organization", "team", "category", "type", "channel", "tags", "urgency", "impact",
                 "sender_domain", "requester_email", "language")


def _require_admin(user) -> None:
    if user is not None and not user.is_admin:
        raise PermissionDenied("Only administrators manage SLA settings.")


def parse_hours(text: str) -> list[tuple[int, int, int]]:
    """``mon-fri 09:00-18:00`` lines (also ``sat 09:00-13:00``, ``mon 09:00-12:00, 13:00-18:00``) →
    (weekday, start, end) minute triples."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    rows: list[tuple[int, int, int]] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip().lower()
        if not line or line.startswith("#"):
            continue
        days_part, _, times_part = line.partition(" ")
        try:
            if "-" in days_part:
                first, last = days_part.split("-", 1)
                days = list(range(names.index(first[:3]), names.index(last[:3]) + 1))
            else:
                days = [names.index(d[:3]) for d in days_part.split(",")]
            intervals = []
            for chunk in times_part.split(","):
                start, _, end = chunk.strip().partition("-")
                intervals.append((parse_hhmm(start), parse_hhmm(end)))
        except (ValueError, IndexError):
            raise ValidationError(f"Opening hours line {number} (“{raw.strip()}”) is not like "
                                  f"“mon-fri 09:00-18:00”.", code="invalid_hours")
        if not days:
            raise ValidationError(f"Opening hours line {number}: no weekdays.", code="invalid_hours")
        rows += [(d, s, e) for d in days for s, e in intervals]
    return rows


def parse_holidays(text: str) -> list[tuple[dt.date, bool, str]]:
    """``2025-12-25 Christmas`` (one-off) or ``*-12-25 Christmas`` (every year) per line."""
    result = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        date_part, _, name = line.partition(" ")
        yearly = date_part.startswith("*-")
        try:
            day = dt.date.fromisoformat(("2000" + date_part[1:]) if yearly else date_part)
        except ValueError:
            raise ValidationError(f"Holiday line {number} (“{line}”) is not like “2025-12-25 Name” or "
                                  f"“*-12-25 Name”.", code="invalid_holiday")
        result.append((day, yearly, name.strip()[:100]))
    return result


@transaction.atomic
def calendar_save(*, user=None, calendar: BusinessCalendar | None = None, name: str, time_zone: str,
                  hours: list[tuple[int, int, int]], holidays: list[tuple[dt.date, bool, str]] = (),
                  teams: list[Team] = (), is_default: bool = False) -> BusinessCalendar:
    _require_admin(user)
    if time_zone not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone “{time_zone}”.", code="invalid_time_zone")
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for weekday, start, end in hours:
        week[weekday].append((start, end))
    try:
        CalendarSpec(time_zone=time_zone, hours=tuple(tuple(sorted(d)) for d in week))
    except ValueError as exc:
        raise ValidationError(f"Opening hours: {exc}.", code="invalid_hours")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("A name is required.", code="name_required")
    if BusinessCalendar.objects.filter(name__iexact=name).exclude(pk=getattr(calendar, "pk", None)).exists():
        raise ValidationError(f"A calendar named “{name}” already exists.", code="name_taken")
    if is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(pk=getattr(calendar, "pk", None)).update(
            is_default=False)
    before = _calendar_snapshot(calendar) if calendar is not None and calendar.pk else {}
    calendar = calendar or BusinessCalendar()
    calendar.name, calendar.time_zone, calendar.is_default = name, time_zone, is_default
    calendar.full_clean()
    calendar.save()
    generations.bump(CALENDARS)  # every process reads the calendars afresh once this commits
    calendar.hours.all().delete()
    BusinessHours.objects.bulk_create([BusinessHours(calendar=calendar, weekday=w, start_minute=s, end_minute=e)
                                       for w, s, e in hours])
    calendar.holidays.all().delete()
    seen = set()
    for day, yearly, holiday_name in holidays:
        if day in seen:
            continue
        seen.add(day)
        Holiday.objects.create(calendar=calendar, date=day, yearly=yearly, name=holiday_name)
    CalendarTeam.objects.filter(calendar=calendar).exclude(team__in=list(teams)).delete()
    for team in teams:  # a team has one calendar: taking it here moves it from any other
        CalendarTeam.objects.update_or_create(team=team, defaults={"calendar": calendar})
    after = _calendar_snapshot(calendar)
    audit_settings_change(actor=user, target=calendar, operation="updated" if before else "created",
                          before=before, after=after)
    return calendar


def _calendar_snapshot(calendar: BusinessCalendar) -> dict[str, Any]:
    return {**model_snapshot(calendar),
            "hours": sorted(calendar.hours.values_list("weekday", "start_minute", "end_minute")),
            "holidays": sorted((str(d), y, n) for d, y, n in calendar.holidays.values_list("date", "yearly", "name")),
            "teams": sorted(CalendarTeam.objects.filter(calendar=calendar).values_list("team__name", flat=True))}


@transaction.atomic
def calendar_delete(*, user=None, calendar: BusinessCalendar) -> None:
    _require_admin(user)
    audit_settings_change(actor=user, target=calendar, operation="deleted", before=_calendar_snapshot(calendar))
    calendar.delete()
    generations.bump(CALENDARS)
    generations.bump(POLICIES)  # a policy on this calendar loses it


def _minutes(value: Any, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{label} must be a whole number of minutes.", code="invalid_target")
    if minutes <= 0 or minutes > 365 * 24 * 60:
        raise ValidationError(f"{label} must be between 1 minute and a year.", code="invalid_target")
    return minutes


@transaction.atomic
def policy_save(*, user=None, policy: SlaPolicy | None = None, name: str, conditions: Any = None,
                first_reply_minutes: Any = None, next_reply_minutes: Any = None, resolution_minutes: Any = None,
                business_hours: bool = True, calendar: BusinessCalendar | None = None, warn_before_minutes: Any = 30,
                warning_actions: Any = None, breach_actions: Any = None, is_active: bool = True,
                description: str = "") -> SlaPolicy:
    _require_admin(user)
    cleaned = validate_conditions(conditions)
    for group in cleaned.values():
        for cond in group:
            if cond["field"] not in POLICY_FIELDS and not cond["field"].startswith("custom_fields."):
                raise ValidationError(f"SLA policies cannot use “{cond['field']}”; use {', '.join(POLICY_FIELDS)}.",
                                      code="rule_unknown_field")
    before = model_snapshot(policy, exclude=("position",)) if policy is not None and policy.pk else {}
    policy = policy or SlaPolicy(position=(SlaPolicy.objects.aggregate(m=Max("position"))["m"] or 0) + 1)
    policy.name = " ".join((name or "").split())[:120]
    if not policy.name:
        raise ValidationError("A name is required.", code="name_required")
    if SlaPolicy.objects.filter(name__iexact=policy.name).exclude(pk=policy.pk).exists():
        raise ValidationError(f"A policy named “{policy.name}” already exists.", code="name_taken")
    policy.conditions = cleaned
    policy.first_reply_minutes = _minutes(first_reply_minutes, "First reply")
    policy.next_reply_minutes = _minutes(next_reply_minutes, "Next reply")
    policy.resolution_minutes = _minutes(resolution_minutes, "Resolution")
    if not (policy.first_reply_minutes or policy.next_reply_minutes or policy.resolution_minutes):
        raise ValidationError("Set at least one target.", code="targets_required")
    policy.business_hours, policy.calendar = bool(business_hours), calendar
    policy.warn_before_minutes = _minutes(warn_before_minutes, "Warning") or 0
    policy.warning_actions = A.validate_actions(warning_actions, context=A.SLA)
    policy.breach_actions = A.validate_actions(breach_actions, context=A.SLA)
    policy.is_active, policy.description = bool(is_active), description or ""
    policy.full_clean()
    policy.save()
    generations.bump(POLICIES)
    audit_settings_saved(actor=user, target=policy, before=before, exclude=("position",))
    return policy


@transaction.atomic
def policy_delete(*, user=None, policy: SlaPolicy) -> None:
    _require_admin(user)
    audit_settings_change(actor=user, target=policy, operation="deleted", before=model_snapshot(policy))
    policy.delete()
    generations.bump(POLICIES)

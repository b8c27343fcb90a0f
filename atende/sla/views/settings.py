"""Settings pages for SLA policies and business calendars (admins only)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import admin_required
from atende.rules.actions import describe
from atende.rules.builder import rule_builder_catalogue
from atende.rules.pages import preview_page, reference, reorder, settings_form
from atende.sla import selectors
from atende.sla.business_time import add_business_minutes, format_hhmm
from atende.sla.forms import CalendarForm, PolicyForm
from atende.sla.models import BusinessCalendar, SlaPolicy
from atende.sla.selectors import calendar_for_policy, policy_for_ticket
from atende.sla.services.definitions import POLICY_FIELDS as CONDITION_FIELDS
from atende.sla.services.definitions import (
    calendar_delete,
    calendar_save,
    parse_holidays,
    parse_hours,
    policy_delete,
    policy_save,
)

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
POLICY_FIELDS = ["name", "description", "is_active", "conditions", "first_reply_minutes", "next_reply_minutes",
                 "resolution_minutes", "business_hours", "calendar", "warn_before_minutes", "warning_actions",
                 "breach_actions"]


@admin_required
def policy_list(request):
    policies = selectors.policy_list()
    return render(request, "sla/policy_list.html", {"policies": [
        (p, [describe(a) for a in p.breach_actions]) for p in policies]})


@admin_required
def policy_edit(request, policy_id: int | None = None):
    policy = get_object_or_404(SlaPolicy, pk=policy_id) if policy_id else None
    initial = {f: getattr(policy, f) for f in POLICY_FIELDS} if policy else {"is_active": True, "business_hours": True}
    return settings_form(request, form_class=PolicyForm, initial=initial,
                         save=lambda data: policy_save(user=request.user, policy=policy, **data),
                         success_url=reverse("sla:policies"), template="sla/policy_form.html",
                         context={"policy": policy, **reference(fields=CONDITION_FIELDS),
                                  "rule_builder": rule_builder_catalogue(context="sla",
                                                                         condition_fields=CONDITION_FIELDS)})


@admin_required
@require_POST
def policy_remove(request, policy_id: int):
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    policy_delete(user=request.user, policy=policy)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": policy.name})
    return redirect("sla:policies")


@admin_required
@require_POST
def policy_reorder(request, policy_id: int):
    return reorder(request, rule=get_object_or_404(SlaPolicy, pk=policy_id), success_url=reverse("sla:policies"))


@admin_required
def policy_preview(request, policy_id: int):
    policy = get_object_or_404(SlaPolicy, pk=policy_id)

    def targets(ticket) -> dict:
        calendar = calendar_for_policy(policy, ticket)
        due = []
        for metric, label in (("first_reply", _("First reply")), ("next_reply", _("Next reply")),
                              ("resolution", _("Resolution"))):
            minutes = policy.target_minutes(metric)
            when = add_business_minutes(calendar, ticket.created_at, minutes) if minutes and metric != "next_reply" \
                else None
            due.append((label, when))
        return {"chosen": policy_for_ticket(ticket), "due": due}

    return preview_page(request, subject=policy, conditions=policy.conditions, actions=policy.breach_actions,
                        more=targets, template="sla/policy_preview.html", context={"policy": policy})


def hours_grid_texts() -> dict:
    """What the weekly-hours grid and the holiday list show (static/atende/hours_grid.js)."""
    return {"days": [str(WEEKDAYS[i]) for i in range(7)], "year": f"{dt.date.today():%Y}",
            **{key: str(text) for key, text in {
                "day": _("Day"), "open": _("Open"), "hours": _("Hours"), "from": _("From"), "to": _("To"),
                "add_interval": _("Add hours"), "remove": _("Remove"), "add_holiday": _("Add holiday"),
                "date": _("Date"), "name": _("Name"), "yearly": _("Every year"), "edit_text": _("Edit as text"),
                "edit_visual": _("Edit visually"),
                "unreadable": _("These lines could not be shown as a grid; edit them as text."),
            }.items()}}


def _hours_text(calendar: BusinessCalendar) -> str:
    lines = []
    for row in calendar.hours.all():
        lines.append(f"{DAY_NAMES[row.weekday]} {format_hhmm(row.start_minute)}-{format_hhmm(row.end_minute)}")
    return "\n".join(lines)


def _holidays_text(calendar: BusinessCalendar) -> str:
    return "\n".join((f"*-{h.date:%m-%d}" if h.yearly else h.date.isoformat()) + (f" {h.name}" if h.name else "")
                     for h in calendar.holidays.all())


@admin_required
def calendar_list(request):
    calendars = selectors.calendar_list()
    return render(request, "sla/calendar_list.html", {"calendars": [
        (c, _hours_text(c).replace("\n", " · "), c.holidays.count()) for c in calendars]})


@admin_required
def calendar_edit(request, calendar_id: int | None = None):
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id) if calendar_id else None
    initial = {"time_zone": "UTC", "hours": "mon-fri 09:00-18:00"}
    if calendar is not None:
        initial = {"name": calendar.name, "time_zone": calendar.time_zone, "is_default": calendar.is_default,
                   "hours": _hours_text(calendar), "holidays": _holidays_text(calendar),
                   "teams": list(calendar.teams.all())}

    def save(data):
        return calendar_save(user=request.user, calendar=calendar, name=data["name"],
                             time_zone=data["time_zone"].strip(), hours=parse_hours(data["hours"]),
                             holidays=parse_holidays(data["holidays"]), teams=list(data["teams"]),
                             is_default=data["is_default"])

    return settings_form(request, form_class=CalendarForm, initial=initial, save=save,
                         success_url=reverse("sla:calendars"), template="sla/calendar_form.html",
                         context={"calendar": calendar, "today": dt.date.today(), "hours_grid": hours_grid_texts()})


@admin_required
@require_POST
def calendar_remove(request, calendar_id: int):
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    calendar_delete(user=request.user, calendar=calendar)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": calendar.name})
    return redirect("sla:calendars")

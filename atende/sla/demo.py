"""Demo SLA setup for ``atende seed``: a business calendar per demo team, two policies, and SLA on the demo
tickets, replayed over their history set-wise (``services.backfill``). Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from atende.accounts.models import Team
from atende.sla.models import BusinessCalendar, SlaPolicy
from atende.sla.services.backfill import sla_backfill
from atende.sla.services.definitions import calendar_save, parse_hours, policy_save
from atende.tickets.models import Ticket

BRAZIL_HOLIDAYS = [((1, 1), "Confraternização Universal"), ((4, 21), "Tiradentes"), ((5, 1), "Dia do Trabalho"),
                   ((9, 7), "Independência"), ((10, 12), "Nossa Senhora Aparecida"), ((11, 2), "Finados"),
                   ((11, 15), "Proclamação da República"), ((12, 25), "Natal")]
UK_HOLIDAYS = [((1, 1), "New Year's Day"), ((12, 25), "Christmas Day"), ((12, 26), "Boxing Day")]
CALENDARS = {
    "technical-support": ("Technical Support hours", "America/Sao_Paulo",
                          ["mon-fri 08:00-20:00", "sat 09:00-13:00"], BRAZIL_HOLIDAYS),
    "billing": ("Billing hours", "America/Sao_Paulo", ["mon-fri 09:00-12:00, 13:00-18:00"], BRAZIL_HOLIDAYS),
    "product": ("Product hours", "Europe/London", ["mon-fri 09:00-17:30"], UK_HOLIDAYS),
}


def _hours(lines: list[str]) -> list[tuple[int, int, int]]:
    return parse_hours("\n".join(lines))


def load_demo() -> dict[str, int]:
    if SlaPolicy.objects.filter(name="Urgent and high priority").exists():
        return {}
    configure_demo()
    # The demo's tickets have months of history: replay it as if these policies had applied all along, so the
    # timelines, the "Breaching soon" queue and the reports agree (met and missed targets, dated breaches). The
    # events written are history, not news: no notifications, escalations or rule runs.
    applied = sla_backfill(tickets=Ticket.objects.filter(sla_policy_id__isnull=True), now=timezone.now())
    return {"calendars": BusinessCalendar.objects.count(), "policies": SlaPolicy.objects.count(), "tickets": applied}


def configure_demo() -> None:
    """The demo's calendars and policies, without applying them to any ticket."""
    for slug, (name, tz, hours, holidays) in CALENDARS.items():
        team = Team.objects.filter(slug=slug).first()
        if team is None or BusinessCalendar.objects.filter(name=name).exists():
            continue
        calendar_save(name=name, time_zone=tz, hours=_hours(hours), teams=[team], is_default=slug == "technical-support",
                      holidays=[(dt.date(2000, m, d), True, label) for (m, d), label in holidays])
    policy_save(name="Urgent and high priority", description="Fast answers for what is on fire.",
                conditions={"all": [{"field": "priority", "op": "in", "value": ["high", "urgent"]}]},
                first_reply_minutes=60, next_reply_minutes=120, resolution_minutes=8 * 60, warn_before_minutes=15,
                warning_actions=[{"type": "send_email", "to": "assignee",
                                  "subject": "SLA warning on #{{ticket.number}}",
                                  "body": "“{{ticket.subject}}” is about to miss its SLA target."}],
                breach_actions=[{"type": "add_tags", "value": ["sla-breached"]},
                                {"type": "send_email", "to": "team", "subject": "SLA breached on #{{ticket.number}}",
                                 "body": "“{{ticket.subject}}” missed its SLA target. {{ticket.url}}"}])
    policy_save(name="Standard", description="Every other ticket.", conditions={},
                first_reply_minutes=4 * 60, next_reply_minutes=8 * 60, resolution_minutes=3 * 9 * 60,
                warn_before_minutes=30, breach_actions=[{"type": "raise_priority"}])

"""``{% load sla_tags %}{% sla_badge ticket %}``: the ticket's next SLA target with the time left.

Reads only the ticket's own columns (no query), so list pages can show it on every row."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tickets.choices import StatusCategory
from atende.tickets.states import category_of

register = template.Library()

METRIC_LABELS = {"first_reply": _("First reply"), "next_reply": _("Next reply"), "resolution": _("Resolution")}
SOON = dt.timedelta(hours=1)


def format_span(delta: dt.timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def next_target(ticket, now: dt.datetime | None = None) -> dict | None:
    if not ticket.sla_policy_id:
        return None
    category = category_of(ticket.status)
    if category == StatusCategory.RESOLVED:
        return None
    due = [(getattr(ticket, f"{m}_due_at"), m) for m in METRIC_LABELS if getattr(ticket, f"{m}_due_at")]
    if not due:
        return {"state": "paused", "label": _("SLA paused")} if category == StatusCategory.PAUSED else None
    when, metric = min(due)
    left = when - (now or timezone.now())
    state = "breached" if left.total_seconds() < 0 else ("soon" if left < SOON else "ok")
    return {"state": state, "metric": metric, "label": METRIC_LABELS[metric], "due_at": when,
            "span": format_span(left)}


@register.inclusion_tag("sla/_badge.html")
def sla_badge(ticket):
    return {"target": next_target(ticket)}

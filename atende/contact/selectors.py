"""Reads for the contact form: its settings, and what to tell a customer about the first reply."""

from __future__ import annotations

import math

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atende.sla.selectors import policy_for_ticket
from atende.tickets.models import Ticket


def expected_first_reply_minutes(ticket: Ticket) -> int | None:
    """The first-reply target (business minutes) of the SLA policy that applies to the ticket, if any."""
    policy = policy_for_ticket(ticket)
    return policy.first_reply_minutes if policy is not None and policy.first_reply_minutes else None


def expected_reply_text(minutes: int | None, *, language: str = "") -> str:
    """"We usually answer within 4 business hours", in ``language`` (empty when there is no target)."""
    if not minutes:
        return ""
    with translation.override(language or translation.get_language()):
        if minutes < 60:
            return ngettext("We usually answer within %(count)d business minute.",
                            "We usually answer within %(count)d business minutes.", minutes) % {"count": minutes}
        if minutes < 24 * 60 or minutes % (24 * 60):
            hours = math.ceil(minutes / 60)
            return ngettext("We usually answer within %(count)d business hour.",
                            "We usually answer within %(count)d business hours.", hours) % {"count": hours}
        days = minutes // (24 * 60)
        return ngettext("We usually answer within %(count)d business day.",
                        "We usually answer within %(count)d business days.", days) % {"count": days}


def no_target_text(*, language: str = "") -> str:
    with translation.override(language or translation.get_language()):
        return _("We will answer as soon as possible.")

"""Reads for the contact form: its settings, and what to tell a customer about the first reply."""

from __future__ import annotations

from atende.sla.selectors import policy_for_ticket
from atende.tickets.models import Ticket
from atende.tickets.selectors import expected_reply_text, no_target_text

__all__ = ["expected_first_reply_minutes", "expected_reply_text", "no_target_text"]


def expected_first_reply_minutes(ticket: Ticket) -> int | None:
    """The first-reply target (business minutes) of the SLA policy that applies to the ticket, if any."""
    policy = policy_for_ticket(ticket)
    return policy.first_reply_minutes if policy is not None and policy.first_reply_minutes else None

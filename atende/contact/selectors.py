"""Reads for the contact form: its settings, and what to tell a customer about the first reply."""

from __future__ import annotations

from atende.sla.selectors import expected_first_reply_minutes
from atende.tickets.selectors import expected_reply_text, no_target_text

__all__ = ["expected_first_reply_minutes", "expected_reply_text", "no_target_text"]

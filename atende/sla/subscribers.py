"""The SLA events subscriber (``core/events.py``): every batch of ticket events brings those tickets' clocks up to
date set-wise (the tickets and clocks read once, one write per table), in one transaction with the dispatcher's
cursor."""

from __future__ import annotations

from typing import Any

from atende.sla.services.clocks import IGNORED, sla_handle_events

# Events that never move a clock (the SLA's own among them): the dispatcher does not hand these over at all
# (``core.events.handled_types``), so a batch of them costs no transaction.
EVENTS_IGNORED = IGNORED


def sla_on_events(events: list[dict[str, Any]]) -> None:
    sla_handle_events(payloads=events)

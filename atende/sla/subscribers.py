"""The SLA events subscriber (``core/events.py``): every batch of ticket events brings those tickets' clocks up to
date, in one transaction with the dispatcher's cursor."""

from __future__ import annotations

from typing import Any

from atende.sla.services.clocks import IGNORED, sla_handle_event


def sla_on_events(events: list[dict[str, Any]]) -> None:
    for payload in events:
        if payload["type"] not in IGNORED:
            sla_handle_event(payload=payload)

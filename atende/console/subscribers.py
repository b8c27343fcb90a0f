"""The bell's events subscriber (``core/events.py``): notification rows commit together with the dispatcher's
cursor, so a crash between a change and its push loses no notification. The live nudge to the recipients'
open pages rides on the commit and may be lost: the bell re-reads its count on every page load."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende.console.realtime import push_bells
from atende.console.services import notifications_record_for_events


def bell_on_events(events: list[dict[str, Any]]) -> None:
    recipients = notifications_record_for_events(events=events)
    if recipients:
        transaction.on_commit(lambda: push_bells(recipients))

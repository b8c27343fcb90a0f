"""What an import file says, source-neutral. Dates are aware datetimes; people are referenced by key."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime


class RecordError(ValueError):
    """A record that cannot be imported; the message says why (shown in the rejected-rows summary)."""


@dataclass
class OrgRecord:
    key: str  # the source's id (or the name)
    name: str
    domains: list[str] = field(default_factory=list)
    shares_tickets: bool = False
    notes: str = ""


@dataclass
class PersonRecord:
    key: str  # the source's id, or the email address
    email: str
    name: str = ""
    role: str = "customer"  # customer | agent
    organization: str | None = None  # an OrgRecord key or an organisation name
    phone: str = ""
    locale: str = ""


@dataclass
class MessageRecord:
    external_id: str
    body_text: str
    author: str | None = None  # a PersonRecord key or an email address
    kind: str = "reply"  # reply | note
    body_html: str = ""
    created_at: datetime.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketRecord:
    label: str  # how the summary names it: "row 12", "ticket 35"
    external_id: str
    subject: str
    requester: str  # a PersonRecord key or an email address
    status: str = "new"
    priority: str | None = None
    type: str | None = None
    channel: str = "api"
    assignee: str | None = None
    team: str | None = None  # team name or slug
    organization: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    messages: list[MessageRecord] = field(default_factory=list)


@dataclass
class ImportBatch:
    system: str
    organizations: list[OrgRecord] = field(default_factory=list)
    people: list[PersonRecord] = field(default_factory=list)
    tickets: list[TicketRecord] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # rows that could not even be read


def when(value: Any, what: str) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                parsed = datetime.datetime.combine(datetime.date.fromisoformat(str(value).strip()),
                                                   datetime.time.min)
            except ValueError:
                raise RecordError(f"{what} {value!r} is not an ISO 8601 date")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()

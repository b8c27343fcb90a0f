"""The workspace timeline: messages and audit events merged by time, runs of events collapsed into one item.

Events hold raw values (STYLE §4); the readable, translated sentence for each is built here, at render time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from atende.tickets.choices import (
    ActorKind,
    Level,
    LinkKind,
    TicketEventType,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from atende.tickets.models import CustomField, Message, TicketEvent
from atende.tickets.selectors import custom_field_definitions, timeline_events, timeline_messages

from ..timeformat import format_local
from ..timeline_header import message_header

E = TicketEventType
# Shown as the message itself, so their audit rows would only repeat it.
HIDDEN_EVENTS = frozenset({E.REPLY_ADDED, E.NOTE_ADDED})
_CHOICE_LABELS = {"status": TicketStatus, "priority": TicketPriority, "urgency": Level, "impact": Level,
                  "type": TicketType}


@dataclass
class TimelineItem:
    kind: str  # "message" or "events"
    created_at: Any
    message: Message | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    when: Times | None = None  # the message's time, as the timeline shows it
    # What the message's header shows of its metadata (read here: a key the template looked up in vain cost it
    # three exceptions per message) and, on a messaging ticket, what the platform reported of the reply.
    phone_call: dict | None = None
    email: dict | None = None
    delivery: Any = None
    ticket_pk: int | None = None

    @property
    def header(self) -> str:
        """A message's header, written when the page renders it (after the delivery states are read)."""
        return message_header(self, ticket_pk=self.ticket_pk)

    @property
    def is_group(self) -> bool:
        return len(self.events) > 1


@dataclass(frozen=True)
class Times:
    """One instant as the timeline writes it: ``iso`` (the ``datetime`` attribute), ``long`` (the hover title,
    ``DATETIME_FORMAT``) and ``short`` (``SHORT_DATETIME_FORMAT``), in the reader's time zone and language: what
    the ``date`` filter gives."""

    iso: str
    long: str
    short: str


class _Clock:
    """Formats the timeline's instants with the formats, language and time zone looked up once per page, each
    part of the text kept per process (``timeformat``): the ``date`` filter looked them up, and converted the
    time zone, for each of its three uses per message."""

    def __init__(self):
        self.long_format = formats.get_format("DATETIME_FORMAT")
        self.short_format = formats.get_format("SHORT_DATETIME_FORMAT")
        self.language = get_language()
        self.zone = timezone.get_current_timezone()

    def __call__(self, instant) -> Times:
        local = instant.astimezone(self.zone) if timezone.is_aware(instant) else instant
        return Times(iso=local.isoformat(), long=format_local(local, self.long_format, self.language),
                     short=format_local(local, self.short_format, self.language))


def _label(name: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return _("(empty)")
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id"))
    choices = _CHOICE_LABELS.get(name)
    if choices is not None:
        try:
            return str(choices(value).label)
        except ValueError:
            return str(value)
    return str(value)


def _field_name(name: str) -> str:
    names = {"subject": _("Subject"), "type": _("Type"), "category": _("Category"), "urgency": _("Urgency"),
             "impact": _("Impact"), "custom_fields": _("Custom fields"), "language": _("Language"),
             "team": _("Team"), "priority": _("Priority")}
    return names.get(name, name)


def _duration(seconds: int) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _custom_changes(old: dict, new: dict, definitions: dict[str, CustomField]) -> list[str]:
    """One "Plan: Free → Pro" per custom field that changed, with the field's and the choices' labels."""
    parts = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        field = definitions.get(key)

        def shown(value, field=field):
            if value in (None, ""):
                return _("(empty)")
            return field.display_value(value) if field else str(value)

        parts.append(_("%(field)s: %(old)s → %(new)s") % {"field": field.display_label() if field else key,
                                                          "old": shown(old.get(key)), "new": shown(new.get(key))})
    return parts


def describe_event(event: TicketEvent, custom_fields: dict[str, CustomField] | None = None) -> str:
    """One sentence saying what the event changed, in the reader's language (``custom_fields``: the definitions
    by key, for the labels of custom field changes), and which triage model set it, when one did."""
    text = _describe_change(event, custom_fields)
    triage = (event.data or {}).get("triage")
    if isinstance(triage, dict) and triage.get("model_version"):
        confidences = ", ".join(f"{_field_name(name.removeprefix('custom:'))} {value:.2f}" for name, value
                                in sorted((triage.get("confidence") or {}).items()) if isinstance(value, int | float))
        text += " " + _("(triage model v%(version)s, confidence %(confidences)s)") % {
            "version": triage["model_version"], "confidences": confidences or "—"}
    return text


def _describe_change(event: TicketEvent, custom_fields: dict[str, CustomField] | None) -> str:
    data = event.data or {}
    t = event.type
    if t == E.TICKET_CREATED:
        return _("Ticket created (channel: %(channel)s)") % {"channel": data.get("channel", "")}
    if t in (E.STATUS_CHANGED, E.PRIORITY_CHANGED):
        name = "status" if t == E.STATUS_CHANGED else "priority"
        text = _("%(field)s: %(old)s → %(new)s") % {
            "field": _("Status") if name == "status" else _("Priority"),
            "old": _label(name, data.get("old")), "new": _label(name, data.get("new"))}
        if data.get("reopened"):
            text += " " + _("(reopened)")
        return text
    if t in (E.ASSIGNEE_CHANGED, E.TEAM_CHANGED, E.REQUESTER_CHANGED):
        field_label = {E.ASSIGNEE_CHANGED: _("Assignee"), E.TEAM_CHANGED: _("Team"),
                       E.REQUESTER_CHANGED: _("Requester")}[t]
        nobody = _("nobody")
        old = (data.get("old") or {}).get("name") or nobody
        new = (data.get("new") or {}).get("name") or nobody
        return _("%(field)s: %(old)s → %(new)s") % {"field": field_label, "old": old, "new": new}
    if t == E.FIELDS_CHANGED:
        old, new = data.get("old") or {}, data.get("new") or {}
        parts = []
        for k in new:
            if k == "custom_fields" and isinstance(new[k], dict):
                parts += _custom_changes(old.get(k) or {}, new[k], custom_fields or {})
                continue
            parts.append(_("%(field)s: %(old)s → %(new)s") % {"field": _field_name(k), "old": _label(k, old.get(k)),
                                                              "new": _label(k, new.get(k))})
        return "; ".join(parts) or str(E(t).label)
    if t == E.TAGS_CHANGED:
        changes = [f"+{tag}" for tag in data.get("added", [])] + [f"−{tag}" for tag in data.get("removed", [])]
        return _("Tags: %(changes)s") % {"changes": " ".join(changes)}
    if t == E.FOLLOWERS_CHANGED:
        text = _("Followers: %(added)s added, %(removed)s removed") % {
            "added": len(data.get("added", [])), "removed": len(data.get("removed", []))}
        if data.get("reason") == "email_reply":
            text += " " + _("(replied by email without being on the ticket: added as CC)")
        return text
    if t in (E.LINK_ADDED, E.LINK_REMOVED):
        try:
            kind = str(LinkKind(data.get("kind")).label)
        except ValueError:
            kind = str(data.get("kind"))
        template = _("Linked: %(kind)s #%(number)s") if t == E.LINK_ADDED else _("Unlinked: %(kind)s #%(number)s")
        return template % {"kind": kind, "number": data.get("ticket")}
    if t == E.MERGED:
        return _("Merged into #%(number)s") % {"number": data.get("target")}
    if t == E.MERGED_FROM:
        return _("#%(number)s was merged into this ticket") % {"number": data.get("source")}
    if t == E.FOLLOW_UP_CREATED:
        return _("Follow-up #%(number)s created") % {"number": data.get("follow_up")}
    if t == E.PHONE_CALL_LOGGED:
        direction = _("inbound") if data.get("direction") == "inbound" else _("outbound")
        return _("Phone call with %(caller)s (%(direction)s, %(duration)s)") % {
            "caller": data.get("caller", ""), "direction": direction,
            "duration": _duration(data.get("duration_seconds"))}
    if t == E.EMAIL_BOUNCED:
        recipients = ", ".join(str(r) for r in data.get("recipients") or []) or _("the recipient")
        how = {"hard": _("permanently: the address is marked undeliverable"),
               "complaint": _("as a spam complaint: the address gets no more notifications"),
               "soft": _("for now: the mail server will retry")}.get(data.get("bounce"), "")
        text = _("Email to %(recipients)s bounced") % {"recipients": recipients}
        text = f"{text} {how}" if how else text
        return f"{text} ({data['diagnostic']})" if data.get("diagnostic") else text
    try:
        return str(E(t).label)
    except ValueError:
        return t


def actor_name(event: TicketEvent) -> str:
    if event.actor_user is not None:
        return event.actor_user.display_name
    return str(ActorKind(event.actor_kind).label) if event.actor_kind in ActorKind.values else event.actor_kind


def build_timeline(*, user, ticket, latest: int | None = None) -> list[TimelineItem]:
    """Messages and events in time order; consecutive events form one collapsible group. ``latest=N`` keeps the
    newest N entries (messages and events) and reads no more than that from the database."""
    return build_timeline_window(user=user, ticket=ticket, latest=latest)[0]


def build_timeline_window(*, user, ticket, latest: int | None = None) -> tuple[list[TimelineItem], bool]:
    """``build_timeline`` and whether older entries were left out."""
    # The newest ``latest`` + 1 of each kind hold the newest ``latest`` of both together (the one extra tells
    # whether anything is older).
    messages = timeline_messages(user=user, ticket=ticket, latest=latest)
    events = timeline_events(user=user, ticket=ticket, latest=latest, hidden=HIDDEN_EVENTS)
    if latest is not None:
        messages, events = messages[::-1], events[::-1]
    entries: list[tuple[Any, int, int, Any]] = [(m.created_at, 0, m.pk, m) for m in messages]
    # The creation event heads the thread; other events follow the message they came with (same instant).
    entries += [(e.created_at, -1 if e.type == E.TICKET_CREATED else 1, e.pk, e) for e in events]
    entries.sort(key=lambda entry: entry[:3])
    earlier = latest is not None and len(entries) > latest
    if earlier:
        entries = entries[-latest:]
        events = [entry[3] for entry in entries if not isinstance(entry[3], Message)]
    custom_fields = custom_field_definitions() if any(e.type == E.FIELDS_CHANGED for e in events) else {}
    clock = _Clock()
    items: list[TimelineItem] = []
    for created_at, _order, _pk, obj in entries:
        if isinstance(obj, Message):
            metadata = obj.metadata if isinstance(obj.metadata, dict) else {}
            items.append(TimelineItem(kind="message", created_at=created_at, message=obj, when=clock(created_at),
                                      phone_call=metadata.get("phone_call"), email=metadata.get("email"),
                                      ticket_pk=ticket.pk))
            continue
        row = {"event": obj, "text": describe_event(obj, custom_fields), "actor": actor_name(obj),
               "when": clock(created_at)}
        if items and items[-1].kind == "events":
            items[-1].events.append(row)
        else:
            items.append(TimelineItem(kind="events", created_at=created_at, events=[row]))
    return items, earlier

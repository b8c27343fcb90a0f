"""Everything a rule reads about one ticket (and the event being handled), loaded lazily and at most once;
:func:`tickets_for_conditions` loads it up front instead, for one rule evaluated against many tickets."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from atende.rules.fields import CUSTOM_PREFIX, FIELDS
from atende.tickets.choices import MessageKind, TicketEventType
from atende.tickets.models import Message, Ticket
from atende.tickets.states import category_of

# Annotations set by ``tickets_for_conditions``; the context reads them instead of querying the messages.
FIRST_MESSAGE_TEXT = "rule_first_message_text"
LATEST_REPLY_TEXT = "rule_latest_reply_text"


class RuleContext:
    def __init__(self, ticket: Ticket, payload: dict[str, Any] | None = None):
        self.ticket = ticket
        self.payload = payload or {}

    @cached_property
    def tags(self) -> set[str]:
        return {tag.name for tag in self.ticket.tags.all()}  # .all() uses prefetched tags when there are

    @cached_property
    def first_message_text(self) -> str:
        if hasattr(self.ticket, FIRST_MESSAGE_TEXT):
            return getattr(self.ticket, FIRST_MESSAGE_TEXT) or ""
        first = Message.objects.filter(ticket=self.ticket).order_by("created_at", "id").first()
        return first.body_text if first else ""

    @cached_property
    def message_text(self) -> str:
        message_id = (self.payload.get("data") or {}).get("message_id")
        if not message_id and hasattr(self.ticket, LATEST_REPLY_TEXT):
            return getattr(self.ticket, LATEST_REPLY_TEXT) or ""
        qs = Message.objects.filter(ticket=self.ticket)
        message = qs.filter(pk=message_id).first() if message_id else None
        if message is None:
            message = qs.filter(kind=MessageKind.REPLY).order_by("-created_at", "-id").first()
        return message.body_text if message else ""

    def value(self, name: str) -> Any:
        """The current value of field ``name`` (refs as ids, tags as a set)."""
        t = self.ticket
        if name.startswith("custom_fields."):
            value = (t.custom_fields or {}).get(name.split(".", 1)[1])
            return str(value).lower() if isinstance(value, bool) else value
        if name == "body":
            return self.first_message_text
        if name == "message":
            return self.message_text
        if name == "requester_email":
            return t.requester.email or ""
        if name == "sender_domain":
            return (t.requester.email or "").rsplit("@", 1)[-1].lower()
        if name == "status_category":
            return str(category_of(t.status))
        if name == "tags":
            return self.tags
        if name == "actor_kind":
            return self.payload.get("actor_kind")
        if name in ("organization", "team", "assignee", "category"):
            return getattr(t, f"{name}_id")
        return getattr(t, name)

    @cached_property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        """What the event changed: field -> (old, new), refs as ids; tags also as ``tags+``/``tags-`` sets."""
        kind = self.payload.get("type")
        data = self.payload.get("data") or {}
        out: dict[str, tuple[Any, Any]] = {}
        if kind in (TicketEventType.STATUS_CHANGED, TicketEventType.PRIORITY_CHANGED):
            out["status" if kind == TicketEventType.STATUS_CHANGED else "priority"] = (data.get("old"), data.get("new"))
        elif kind in (TicketEventType.ASSIGNEE_CHANGED, TicketEventType.TEAM_CHANGED):
            field = "assignee" if kind == TicketEventType.ASSIGNEE_CHANGED else "team"
            out[field] = (_ref_id(data.get("old")), _ref_id(data.get("new")))
        elif kind == TicketEventType.TAGS_CHANGED:
            new = set(data.get("new") or [])
            added, removed = set(data.get("added") or []), set(data.get("removed") or [])
            out["tags"] = ((new - added) | removed, new)
            out["tags+"], out["tags-"] = (set(), added), (set(), removed)
        elif kind == TicketEventType.FIELDS_CHANGED:
            old, new = data.get("old") or {}, data.get("new") or {}
            for name in set(old) | set(new):
                if name == "custom_fields":
                    o, n = old.get(name) or {}, new.get(name) or {}
                    for key in set(o) | set(n):
                        if o.get(key) != n.get(key):
                            out[f"custom_fields.{key}"] = (o.get(key), n.get(key))
                else:
                    out[name] = (_ref_id(old.get(name)), _ref_id(new.get(name)))
        return out


def tickets_for_conditions(tickets: QuerySet[Ticket], conditions: dict, *,
                           fields: Iterable[str] = ()) -> QuerySet[Ticket]:
    """``tickets`` reading only the columns ``conditions`` look at (plus the caller's ``fields``), with the
    requester, tags and message texts they need loaded for the whole batch: a fixed number of queries per batch
    instead of some per ticket. It mirrors :meth:`RuleContext.value`; a field missed here still works, lazily."""
    columns, related, prefetch, texts = {"id", *fields}, [], [], {}
    messages = Message.objects.filter(ticket=OuterRef("pk"))
    for cond in [*(conditions.get("all") or []), *(conditions.get("any") or [])]:
        name = cond.get("field")
        if not isinstance(name, str):
            continue
        if name.startswith(CUSTOM_PREFIX):
            columns.add("custom_fields")
        elif name in ("requester_email", "sender_domain"):
            columns |= {"requester", "requester__email"}
            related = ["requester"]
        elif name == "status_category":
            columns.add("status")
        elif name == "tags":
            prefetch = ["tags"]
        elif name == "body":
            texts[FIRST_MESSAGE_TEXT] = Subquery(messages.order_by("created_at", "id").values("body_text")[:1])
        elif name == "message":  # no event here: the latest reply, as in ``message_text``
            texts[LATEST_REPLY_TEXT] = Subquery(messages.filter(kind=MessageKind.REPLY)
                                                .order_by("-created_at", "-id").values("body_text")[:1])
        elif name in FIELDS and name != "actor_kind":
            columns.add(name)  # a ticket column (organization, team… by their id)
    return tickets.select_related(*related).prefetch_related(*prefetch).annotate(**texts).only(*columns)


def _ref_id(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("id")
    return value

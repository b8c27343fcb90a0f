"""Field, assignment, tag, note, reply and status changes to one ticket or many: the one write path for them.

:class:`TicketChanges` applies changes in memory, in the order given, the way the single-ticket services always
did: each step validates before it sets anything, bumps the version and queues the same audit events with the
same data and actor, so a later step (a later rule in the same batch of events) sees what an earlier one
changed. :meth:`TicketChanges.save` then writes everything together: one UPDATE per group of tickets given the
identical change, one DELETE and one INSERT of tag rows, one INSERT of notes and replies, one INSERT of events
(their ids in the order the changes happened), one reindex (new messages are appended to their tickets' rows).

``ticket_update``'s fields, ``ticket_assign``, ``ticket_set_tags``, ``message_add_note`` and
``ticket_transition`` are this with one ticket, read under lock (``locked=True``). A caller that read its tickets
without a lock (the triggers subscriber reads a whole batch at once) gets optimistic concurrency instead:
``save`` locks the rows it changes and raises Conflict (``stale_version``) if one moved since it was read.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from atende.accounts.models import Team, User
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, ValidationError
from atende.core.text_hygiene import clean_line
from atende.tickets.choices import Level, MessageKind, TicketEventType, TicketPriority, TicketStatus, TicketType
from atende.tickets.fields import clean_custom_fields
from atende.tickets.models import Category, Message, Ticket, TicketSettings, TicketTag
from atende.tickets.services._common import (
    check_not_closed,
    lock_ticket,
    obj_ref,
    require_agent,
    user_ref,
    write_events,
)
from atende.tickets.services.create import normalize_tags, tags_get_or_create

PLAIN_FIELDS = frozenset({"subject", "type", "category", "urgency", "impact", "priority", "custom_fields", "language"})
_CHOICES = {"type": TicketType, "urgency": Level, "impact": Level, "priority": TicketPriority}
_MENTION = re.compile(r"@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def reply_message(ticket: Ticket, *, author: User | None, author_kind: str, channel: str | None, body_text: str,
                  body_html: str = "", external_id: str = "", metadata: dict[str, Any] | None = None,
                  created_at: datetime.datetime) -> Message:
    """A public reply's row, unsaved (``message_add_reply`` and :meth:`TicketChanges.add_reply` write it)."""
    return Message(ticket=ticket, kind=MessageKind.REPLY, author=author, author_kind=author_kind,
                   channel=channel or ticket.channel, body_text=body_text, body_html=body_html,
                   external_id=external_id or "", metadata=metadata or {}, created_at=created_at)


def reply_times(ticket: Ticket, *, from_customer: bool, now: datetime.datetime) -> list[str]:
    """A person's public reply on the ticket, in memory: the last reply time of its side and, for the first
    agent's reply, the first response. The fields changed."""
    if from_customer:
        ticket.last_customer_reply_at = now
        return ["last_customer_reply_at"]
    fields = []
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    ticket.last_agent_reply_at = now
    return [*fields, "last_agent_reply_at"]


def reply_data(message: Message, *, attachments: list[int], fields: list[str]) -> dict[str, Any]:
    """REPLY_ADDED's data for ``message`` (``fields``: what ``reply_times`` changed)."""
    return {"message_id": message.pk, "author_kind": message.author_kind, "author_id": message.author_id,
            "channel": message.channel, "attachments": attachments, "first_response": "first_response_at" in fields}


@dataclass
class _Note:
    ticket: Ticket
    message: Message
    mentions: list[str]
    data: dict[str, Any]
    validated: list = field(default_factory=list)


class TicketChanges:
    """Changes to tickets, applied in memory in order and written by :meth:`save` (see the module docstring).
    ``tickets``: the tickets a caller may change, so that their tags are read with one query when first needed."""

    def __init__(self, *, now: datetime.datetime | None = None, locked: bool = False, tickets: Iterable[Ticket] = ()):
        self.now = now or timezone.now()
        self.locked = locked
        self._candidates = {t.pk for t in tickets}
        self._reset()

    def _reset(self) -> None:
        self._read_version: dict[int, int] = {}
        self._tickets: dict[int, Ticket] = {}
        self._dirty: dict[int, set[str]] = {}
        self._tags: dict[int, set[str]] = {}
        self._tags_read: dict[int, set[str]] = {}
        self._events: list[tuple[Ticket, str, dict[str, Any], datetime.datetime, Actor]] = []
        self._messages: list[Message] = []  # notes and replies, in the order they were added
        self._notes: list[_Note] = []
        self._replies: list[tuple[Message, dict[str, Any]]] = []
        self._problems: list[tuple[Ticket, Actor]] = []

    @staticmethod
    def lock(ticket: Ticket, *, related: tuple[str, ...] = ()) -> Ticket:
        """The ticket read again under lock, with ``related`` joined: for ``TicketChanges(locked=True)``."""
        return lock_ticket(ticket, related=related)

    @staticmethod
    def note_text(body_text: str) -> str:
        """A note's text cleaned as ``message_add_note`` cleans it (ValidationError when empty)."""
        from atende.tickets.services.conversation import message_body

        return message_body(body_text, "", [])[0]

    def __bool__(self) -> bool:
        return bool(self._dirty or self._events)

    def pending(self, ticket: Ticket) -> bool:
        return ticket.pk in self._dirty

    def forget(self, ticket_id: int) -> None:
        """The ticket (with nothing pending here) was written by another path: read its tags again if needed."""
        assert ticket_id not in self._dirty, "save the pending changes before writing the ticket another way"
        self._tags.pop(ticket_id, None)
        self._tags_read.pop(ticket_id, None)

    # --- in memory -------------------------------------------------------------------------------------------

    def _track(self, ticket: Ticket) -> None:
        self._read_version.setdefault(ticket.pk, ticket.version)
        self._tickets[ticket.pk] = ticket

    def _touch(self, ticket: Ticket, fields: Iterable[str]) -> None:
        """What ``touch`` does to the row, in memory: every change bumps ``version`` and ``updated_at``."""
        self._track(ticket)
        ticket.version += 1
        ticket.updated_at = timezone.now()
        self._dirty.setdefault(ticket.pk, set()).update(fields)

    def _event(self, ticket: Ticket, event_type: str, actor: Actor, data: dict[str, Any]) -> None:
        # A copy of the ticket as it is now: the pushed payload carries its version, status, team and assignee.
        self._events.append((copy.copy(ticket), event_type, data, self.now, actor))

    @contextmanager
    def atomic(self, ticket: Ticket) -> Iterator[None]:
        """Changes to ``ticket`` that stand or fall together (one rule's actions): if the block raises, the
        ticket in memory and everything queued for it go back to how they were before the block."""
        state, related, pk = dict(ticket.__dict__), dict(ticket._state.fields_cache), ticket.pk
        saved = (pk in self._read_version, set(self._dirty[pk]) if pk in self._dirty else None,
                 set(self._tags[pk]) if pk in self._tags else None, len(self._events), len(self._messages),
                 len(self._notes), len(self._replies), len(self._problems))
        try:
            yield
        except BaseException:
            ticket.__dict__.clear()
            ticket.__dict__.update(state)
            ticket._state.fields_cache = related
            tracked, dirty, tags, events, messages, notes, replies, problems = saved
            if not tracked:
                self._read_version.pop(pk, None)
                self._tickets.pop(pk, None)
            if dirty is None:
                self._dirty.pop(pk, None)
            else:
                self._dirty[pk] = dirty
            if tags is not None:
                self._tags[pk] = tags
            del self._events[events:], self._messages[messages:], self._notes[notes:], self._replies[replies:]
            del self._problems[problems:]
            raise

    def update(self, ticket: Ticket, *, actor: Actor, changes: dict[str, Any], reason: str = "",
               event_data: dict[str, Any] | None = None) -> None:
        """Plain fields, then team and assignee (what ``ticket_update`` does with those keys)."""
        check_not_closed(ticket)
        plain = {k: v for k, v in changes.items() if k in PLAIN_FIELDS}
        if plain:
            self.fields(ticket, actor=actor, plain=plain, event_data=event_data)
        if "team" in changes or "assignee" in changes:
            team = changes.get("team", ticket.team)
            assignee = changes.get("assignee", ticket.assignee)
            if team != ticket.team or assignee != ticket.assignee:
                self.assign(ticket, actor=actor, team=team, assignee=assignee, reason=reason, event_data=event_data)

    def fields(self, ticket: Ticket, *, actor: Actor, plain: dict[str, Any],
               event_data: dict[str, Any] | None = None) -> None:
        """Subject, type, category, urgency, impact, priority (``None`` = back to the matrix), custom fields,
        language: PRIORITY_CHANGED and/or FIELDS_CHANGED."""
        event_data = event_data or {}
        # Validate every value before touching the ticket, so a bad value never leaves a half-applied change.
        for name, value in plain.items():
            allow_blank = name == "priority"  # None/"" = back to the matrix
            if name in _CHOICES and not (allow_blank and value in (None, "")) and value not in _CHOICES[name].values:
                raise ValidationError(f"Unknown {name} {value!r}.", code=f"unknown_{name}", details={name: value})
            if name == "category" and value is not None and not isinstance(value, Category):
                raise ValidationError("Unknown category.", code="unknown_category")
        cleaned: dict[str, Any] = {}
        for name, value in plain.items():
            if name == "subject":
                value = clean_line(value, 255)
                if not value:
                    raise ValidationError("A subject is required.", code="subject_required")
            if name == "custom_fields":
                value = clean_custom_fields(value, form=ticket.form, current=ticket.custom_fields)
            cleaned[name] = value
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        manual_before = ticket.priority_manual
        for name, value in cleaned.items():
            current = getattr(ticket, name)
            if name == "priority":
                if value in (None, ""):
                    ticket.priority_manual = False
                    value = TicketSettings.load().priority_for(plain.get("urgency", ticket.urgency),
                                                               plain.get("impact", ticket.impact))
                else:
                    ticket.priority_manual = True
            if value != current:
                old[name], new[name] = _raw(current), _raw(value)
                setattr(ticket, name, value)
        if ("urgency" in new or "impact" in new) and not ticket.priority_manual and "priority" not in plain:
            derived = TicketSettings.load().priority_for(ticket.urgency, ticket.impact)
            if derived != ticket.priority:
                old["priority"], new["priority"] = ticket.priority, derived
                ticket.priority = derived
        if not new and ticket.priority_manual == manual_before:
            return
        self._touch(ticket, [*new, "priority_manual"])
        if "priority" in new or ticket.priority_manual != manual_before:
            self._event(ticket, TicketEventType.PRIORITY_CHANGED, actor, {
                "old": old.pop("priority", ticket.priority), "new": new.pop("priority", ticket.priority),
                "manual": ticket.priority_manual, **event_data})
        if new:
            self._event(ticket, TicketEventType.FIELDS_CHANGED, actor, {"old": old, "new": new, **event_data})

    def assign(self, ticket: Ticket, *, actor: Actor, team: Team | None, assignee: User | None, reason: str = "",
               event_data: dict[str, Any] | None = None) -> None:
        """The team and/or the agent: TEAM_CHANGED and/or ASSIGNEE_CHANGED."""
        check_not_closed(ticket)
        if assignee is not None and (not assignee.is_agent or not assignee.is_active):
            raise ValidationError(f"{assignee.display_name} is not an active agent.", code="assignee_not_agent")
        changes: list[tuple[str, dict[str, Any]]] = []
        if team != ticket.team:
            changes.append((TicketEventType.TEAM_CHANGED,
                            {"old": obj_ref(ticket.team), "new": obj_ref(team), "reason": reason, **(event_data or {})}))
            ticket.team = team
        if assignee != ticket.assignee:
            changes.append((TicketEventType.ASSIGNEE_CHANGED,
                            {"old": user_ref(ticket.assignee), "new": user_ref(assignee), "reason": reason}))
            ticket.assignee = assignee
        if changes:
            # Events are recorded after the row changes, so their payloads carry the new team and assignee.
            self._touch(ticket, ["team", "assignee"])
            for event_type, data in changes:
                self._event(ticket, event_type, actor, data)

    def tags_of(self, ticket: Ticket) -> set[str]:
        """The ticket's tag names as they are in this set of changes (read with the candidates' when first
        needed, or from tags prefetched on the ticket)."""
        if ticket.pk not in self._tags:
            cache = getattr(ticket, "_prefetched_objects_cache", {})
            if "tags" in cache:
                self._tags[ticket.pk] = {t.name for t in cache["tags"]}
            else:
                ids = (self._candidates | {ticket.pk}) - set(self._tags)
                found: dict[int, set[str]] = {pk: set() for pk in ids}
                for pk, name in TicketTag.objects.filter(ticket_id__in=ids).values_list("ticket_id", "tag__name"):
                    found[pk].add(name)
                self._tags.update(found)
            self._tags_read.setdefault(ticket.pk, set(self._tags[ticket.pk]))
        return self._tags[ticket.pk]

    def known_tags(self, ticket: Ticket) -> set[str] | None:
        """The ticket's tags if this set of changes has read them (rules read them from here)."""
        return self._tags.get(ticket.pk)

    def set_tags(self, ticket: Ticket, *, actor: Actor, tags: Iterable[str] = (), add: Iterable[str] = (),
                 remove: Iterable[str] = ()) -> None:
        """Replace the tags (``tags``) or add/remove some: one TAGS_CHANGED with what was added and removed."""
        check_not_closed(ticket)
        current = self.tags_of(ticket)
        self._tags_read.setdefault(ticket.pk, set(current))
        if tags or (not add and not remove):
            wanted = set(normalize_tags(tags))
        else:
            wanted = (current | set(normalize_tags(add))) - set(normalize_tags(remove))
        added, removed = sorted(wanted - current), sorted(current - wanted)
        if not added and not removed:
            return
        self._tags[ticket.pk] = wanted
        getattr(ticket, "_prefetched_objects_cache", {}).pop("tags", None)  # no longer current: read from here
        self._touch(ticket, [])
        self._event(ticket, TicketEventType.TAGS_CHANGED, actor, {"added": added, "removed": removed,
                                                                 "new": sorted(wanted)})

    def add_note(self, ticket: Ticket, *, actor: Actor, body_text: str, body_html: str = "",
                 validated: list | None = None, metadata: dict[str, Any] | None = None) -> Message:
        """An internal note (its text already cleaned): NOTE_ADDED. The message gets its id on ``save``."""
        check_not_closed(ticket)
        message = Message(ticket=ticket, kind=MessageKind.NOTE, author=actor.user, author_kind=actor.kind,
                          channel=ticket.channel, body_text=body_text, body_html=body_html, metadata=metadata or {},
                          created_at=self.now)
        data: dict[str, Any] = {"message_id": None, "mentions": [], "attachments": []}
        self._messages.append(message)
        self._notes.append(_Note(ticket=ticket, message=message, data=data, validated=list(validated or []),
                                 mentions=[m.lower() for m in _MENTION.findall(body_text)]))
        self._touch(ticket, [])
        self._event(ticket, TicketEventType.NOTE_ADDED, actor, data)
        return message

    def add_reply(self, ticket: Ticket, *, actor: Actor, author: User | None, body_text: str, channel: str | None = None,
                  external_id: str = "", metadata: dict[str, Any] | None = None) -> Message:
        """A person's public reply (its text already cleaned, no files) that moves no status: REPLY_ADDED, with
        the rows and data ``message_add_reply`` writes. A customer's reply on a pending, solved or merged ticket
        and an agent's first reply on a new one move the ticket: they are ``message_add_reply``'s. The message
        gets its id on ``save``."""
        check_not_closed(ticket)
        from_customer = author is not None and not author.is_staff_member
        if from_customer:
            if ticket.merged_into_id or ticket.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
                raise ValueError("this reply moves the ticket: message_add_reply writes it")
        else:
            require_agent(actor)
            if ticket.status == TicketStatus.NEW:
                raise ValueError("this reply opens the ticket: message_add_reply writes it")
        message = reply_message(ticket, author=author, author_kind="customer" if from_customer else "agent",
                                channel=channel, body_text=body_text, external_id=external_id, metadata=metadata,
                                created_at=self.now)
        fields = reply_times(ticket, from_customer=from_customer, now=self.now)
        data = reply_data(message, attachments=[], fields=fields)
        self._messages.append(message)
        self._replies.append((message, data))
        self._touch(ticket, fields)
        self._event(ticket, TicketEventType.REPLY_ADDED, actor, data)
        return message

    def transition(self, ticket: Ticket, *, to: str, actor: Actor, reason: str = "", resolution_summary: str = "",
                   enforce_solve_rules: bool = True) -> None:
        """Move the status if the transition table (and the actor) allow it: STATUS_CHANGED. Solving a problem
        solves its incidents when the changes are saved."""
        from atende.tickets.services.lifecycle import status_apply

        old = ticket.status
        changed = status_apply(ticket, to=to, actor=actor, resolution_summary=resolution_summary,
                               enforce_solve_rules=enforce_solve_rules, now=self.now)
        to = ticket.status
        self._touch(ticket, changed)
        self._event(ticket, TicketEventType.STATUS_CHANGED, actor, {
            "old": old, "new": to, "reason": reason, "reopened": old == TicketStatus.SOLVED and to == TicketStatus.OPEN})
        if to == TicketStatus.SOLVED and ticket.type == "problem":
            self._problems.append((ticket, actor))

    # --- writing -----------------------------------------------------------------------------------------------

    def save(self) -> None:
        """Write what was applied, in the caller's transaction, and start afresh."""
        if not self:
            return
        try:
            self._check_versions()
            self._write_tickets()
            self._write_tags()
            self._write_messages()
            write_events([(t, kind, data, at, actor) for t, kind, data, at, actor in self._events])
            problems = self._problems
        finally:
            self._reset()
        if problems:
            from atende.tickets.services.lifecycle import solve_incidents

            for ticket, actor in problems:
                solve_incidents(problem=ticket, actor=actor)

    def _check_versions(self) -> None:
        if self.locked or not self._dirty:
            return
        rows = dict(Ticket.objects.select_for_update(no_key=True).filter(pk__in=list(self._dirty)).order_by("pk")
                    .values_list("pk", "version"))
        for pk in sorted(self._dirty):
            if rows.get(pk) != self._read_version[pk]:
                ticket = self._tickets[pk]
                raise Conflict(f"Ticket #{ticket.number} was changed by someone else meanwhile.", code="stale_version",
                               details={"expected_version": self._read_version[pk], "current_version": rows.get(pk)})

    def _write_tickets(self) -> None:
        """One UPDATE per group of tickets given the same values and the same number of changes."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        values: dict[tuple, dict[str, Any]] = {}
        for pk, names in self._dirty.items():
            ticket = self._tickets[pk]
            columns = {}
            for name in sorted(names):
                f = Ticket._meta.get_field(name)
                columns[f.attname] = getattr(ticket, f.attname)
            key = (tuple((k, json.dumps(v, sort_keys=True, default=str)) for k, v in columns.items()),
                   ticket.version - self._read_version[pk])
            groups[key].append(pk)
            values[key] = columns
        stamp = timezone.now()  # what ``updated_at``'s auto_now gave each save, whatever ``now`` the change has
        for key, pks in groups.items():
            Ticket.objects.filter(pk__in=pks).update(**values[key], version=F("version") + key[1], updated_at=stamp)
            for pk in pks:
                self._tickets[pk].updated_at = stamp

    def _write_tags(self) -> None:
        removed, added = Q(), {}
        for pk, before in self._tags_read.items():
            after = self._tags.get(pk, before)
            if before - after:
                removed |= Q(ticket_id=pk, tag__name__in=sorted(before - after))
            if after - before:
                added[pk] = after - before
        if removed:
            TicketTag.objects.filter(removed).delete()
        if added:
            tags = {t.name: t for t in tags_get_or_create(sorted(set().union(*added.values())))}
            TicketTag.objects.bulk_create([TicketTag(ticket_id=pk, tag=tags[name]) for pk, names in added.items()
                                           for name in sorted(names)], ignore_conflicts=True)

    def _write_messages(self) -> None:
        if not self._messages:
            return
        from atende.tickets.services.attachments import attachments_store

        Message.objects.bulk_create(self._messages)
        for message, data in self._replies:
            data["message_id"] = message.pk
        emails = {e for note in self._notes for e in note.mentions}
        staff = dict(User.objects.filter(email__in=emails, role__in=["admin", "agent", "collaborator"])
                     .values_list("email", "id")) if emails else {}
        for note in self._notes:
            stored = attachments_store(ticket=note.ticket, message=note.message, validated=note.validated,
                                       uploaded_by=note.message.author) if note.validated else []
            note.data.update({"message_id": note.message.pk,
                              "mentions": sorted({staff[e] for e in note.mentions if e in staff}),
                              "attachments": [a.pk for a in stored]})


def _raw(value: Any) -> Any:
    if isinstance(value, Category):
        return obj_ref(value)
    return value

"""``ticket_create``: the one path every channel (portal, console, API, email, chat, phone, import) uses."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery
from django.utils import timezone

from atende.accounts.models import Team, User
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError, full_clean_or_raise
from atende.core.text_hygiene import clean_body, clean_line
from atende.tickets.choices import (
    Channel,
    Level,
    MessageKind,
    TicketEventType,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from atende.tickets.fields import clean_custom_fields
from atende.tickets.models import Category, Message, Tag, Ticket, TicketFollower, TicketForm, TicketSettings, TicketTag
from atende.tickets.services._common import obj_ref, record_event, user_ref
from atende.tickets.services.attachments import IncomingFile, attachments_store, validate_files
from atende.tickets.text import html_to_text, sanitize_html

_TABLE = Ticket._meta.db_table
_SQLITE_NEXT_ID = f"""SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{_TABLE}'), 0),
                   COALESCE((SELECT MAX(id) FROM {_TABLE}), 0)) + 1"""
_LOADED_RELATIONS = ("organization", "team", "assignee", "category", "form", "follow_up_of")


def _choice(value: str | None, choices, field: str, default: str) -> str:
    if value in (None, ""):
        return default
    if value not in choices.values:
        raise ValidationError(f"Unknown {field} {value!r}; expected one of {', '.join(choices.values)}.",
                              code=f"unknown_{field}", details={field: value})
    return value


def normalize_tags(tags: Iterable[str]) -> list[str]:
    cleaned = []
    for tag in tags or ():
        name = str(tag).strip().lower().replace(" ", "-")[:64]
        if name and name not in cleaned:
            cleaned.append(name)
    return cleaned


def tags_get_or_create(names: list[str]) -> list[Tag]:
    if not names:
        return []
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names))


class _PreparedInsert:
    """One row's INSERT compiled before the transaction (every value converted, the SQL built); ``run`` executes it
    inside, through Django's own compiler (RETURNING or the last id, the values' converters), filling in first the
    ``later`` foreign keys, whose ids only exist there. Inside the transaction (on SQLite the writers' turn, which
    every other channel and the events worker wait for) only the statement is left to run: building it was about
    two thirds of a ticket's time there."""

    def __init__(self, obj, *, later: tuple[str, ...] = ()):
        meta = obj._meta
        self.obj, self.connection, self.returning = obj, transaction.get_connection(), meta.db_returning_fields
        fields = [f for f in meta.local_concrete_fields
                  if not f.generated and (obj.pk is not None or f is not meta.auto_field)]
        self.later = {name: (meta.get_field(name).attname, fields.index(meta.get_field(name))) for name in later}
        for attname, _index in self.later.values():
            setattr(obj, attname, 0)  # a placeholder: the parameter is replaced in ``run``
        query = InsertQuery(type(obj))
        query.insert_values(fields, [obj])
        self.compiler = query.get_compiler(connection=self.connection)
        self.compiler.returning_fields = self.returning
        ((self.sql, params),) = self.compiler.as_sql()  # what save() builds, auto_now values included
        self.params = list(params)
        assert not later or len(self.params) == len(fields), "the later keys' parameters must be in field order"

    def run(self, **ids: int) -> None:
        params = list(self.params)
        for name, value in ids.items():
            attname, index = self.later[name]
            params[index] = value
            setattr(self.obj, attname, value)
        self.compiler.as_sql = lambda: [(self.sql, params)]
        (row,) = self.compiler.execute_sql(self.returning)
        for value, field in zip(row, self.returning, strict=True):
            setattr(self.obj, field.attname, value)
        self.obj._state.adding, self.obj._state.db = False, self.connection.alias


def _numbered(ticket: Ticket) -> _PreparedInsert:
    """The ticket's INSERT with its number, which is its id, in the one statement (no second write of the row)."""
    connection = transaction.get_connection()
    if connection.vendor == "sqlite":
        # The transaction holds SQLite's writer lock, so the next id (AUTOINCREMENT: one past the largest ever
        # used, which sqlite_sequence keeps) is still free when the INSERT computes it for both columns.
        next_id = RawSQL(_SQLITE_NEXT_ID, ())
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [_TABLE])
            next_id = cursor.fetchone()[0]
    ticket.pk = ticket.number = next_id
    return _PreparedInsert(ticket)


def ticket_create(
    *,
    actor: Actor,
    requester: User,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    channel: str = Channel.WEB,
    type: str | None = None,
    category: Category | None = None,
    form: TicketForm | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    urgency: str | None = None,
    impact: str | None = None,
    priority: str | None = None,
    status: str | None = None,
    tags: Iterable[str] = (),
    custom_fields: dict[str, Any] | None = None,
    followers: Iterable[User] = (),
    attachments: Iterable[IncomingFile] = (),
    language: str = "",
    external_id: str = "",
    message_external_id: str = "",
    message_metadata: dict[str, Any] | None = None,
    first_message_by_agent: bool = False,
    follow_up_of: Ticket | None = None,
    created_at: datetime.datetime | None = None,
) -> Ticket:
    """Register a request: the ticket, its first message and attachments, and TICKET_CREATED, atomically.

    Everything that only reads or checks (the input, the priority matrix, the custom fields, the files, the
    ticket's field validation, the HTML sanitising) happens before the transaction starts: on SQLite the
    transaction holds the one writers' turn, which every other channel waits for.

    The returned ticket carries its first message as ``first_message`` (a channel that records which message it
    made need not read it back)."""
    subject = clean_line(subject, 255)
    if not subject:
        raise ValidationError("A subject is required.", code="subject_required", details={"subject": "required"})
    body_html = clean_body(body_html)
    if body_html and not body_text:
        body_text = html_to_text(body_html)
    body_text = clean_body(body_text).strip()
    files = list(attachments)
    if not body_text and not files:
        raise ValidationError("Describe the request (or attach a file).", code="description_required",
                              details={"body": "required"})
    if requester is None or not requester.is_active:
        raise ValidationError("The requester is missing or inactive.", code="requester_invalid")
    for_customer = actor.is_customer
    if for_customer and (team or assignee or priority or status):
        raise ValidationError("Customers cannot set team, assignee, priority or status.", code="forbidden_fields")
    channel = _choice(channel, Channel, "channel", Channel.WEB)
    ticket_type = _choice(type, TicketType, "type", form.ticket_type if form else TicketType.QUESTION)
    urgency = _choice(urgency, Level, "urgency", Level.MEDIUM)
    impact = _choice(impact, Level, "impact", Level.MEDIUM)
    priority_manual = bool(priority)
    config = TicketSettings.load()
    priority = _choice(priority, TicketPriority, "priority", config.priority_for(urgency, impact))
    initial_status = _choice(status, TicketStatus, "status", TicketStatus.NEW)
    if initial_status not in (TicketStatus.NEW, TicketStatus.OPEN):
        raise ValidationError("A new ticket starts as new or open.", code="invalid_initial_status")
    if assignee is not None and (not assignee.is_agent or not assignee.is_active):
        raise ValidationError("Tickets can only be assigned to agents.", code="assignee_not_agent")
    category = category or (form.category if form else None)
    team = team or (form.team if form else None) or (category.default_team if category else None)
    cleaned_fields = clean_custom_fields(custom_fields, form=form, for_customer=for_customer)
    validated_files = validate_files(files)
    safe_html = sanitize_html(body_html) if body_html else ""
    now = created_at or timezone.now()

    ticket = Ticket(
        subject=subject, type=ticket_type, channel=channel, requester=requester,
        organization_id=requester.organization_id, team=team, assignee=assignee, category=category, form=form,
        urgency=urgency, impact=impact, priority=priority, priority_manual=priority_manual,
        custom_fields=cleaned_fields, language=language or requester.locale or "", external_id=external_id or "",
        follow_up_of=follow_up_of, created_at=now, updated_at=now, status_changed_at=now,
        status=initial_status,  # a brand-new row starts in its status; every later change is a transition
    )
    ticket.new_reply_token()
    if not first_message_by_agent:
        ticket.last_customer_reply_at = now
    # The related rows were passed in loaded (or, for the organization, read from the requester): the database's
    # foreign keys hold them, so validation does not look each one up again.
    full_clean_or_raise(ticket, exclude=["number", "requester", "reply_token", *_LOADED_RELATIONS])
    tag_names = normalize_tags(tags)
    follower_ids = {u.pk for u in followers if u.pk != requester.pk}
    author = actor.user if first_message_by_agent else requester
    message = Message(
        ticket=ticket, kind=MessageKind.REPLY, author=author,
        author_kind="agent" if first_message_by_agent else "customer", channel=channel, body_text=body_text,
        body_html=safe_html, external_id=message_external_id or "",
        metadata=message_metadata or {}, created_at=now,
    )
    insert_message = _PreparedInsert(message, later=("ticket",))
    insert_ticket = _numbered(ticket)

    # No savepoint of its own inside a caller's transaction: everything that can refuse the ticket was checked
    # above, so a failure here is the database's, and it fails the caller's transaction (or savepoint) as a whole.
    with transaction.atomic(savepoint=False):
        insert_ticket.run()
        ticket.number = ticket.pk
        if tag_names:
            TicketTag.objects.bulk_create([TicketTag(ticket=ticket, tag=t) for t in tags_get_or_create(tag_names)])
        if follower_ids:
            TicketFollower.objects.bulk_create([TicketFollower(ticket=ticket, user_id=uid) for uid in follower_ids],
                                               ignore_conflicts=True)
        insert_message.run(ticket=ticket.pk)
        stored = attachments_store(ticket=ticket, message=message, validated=validated_files, uploaded_by=author)
        record_event(ticket, TicketEventType.TICKET_CREATED, actor=actor, created_at=now, data={
            "subject": subject, "channel": channel, "status": ticket.status, "priority": priority,
            "type": ticket_type, "requester": user_ref(requester), "team": obj_ref(team), "assignee": user_ref(assignee),
            "category": obj_ref(category), "tags": tag_names, "message_id": message.pk,
            "attachments": [a.pk for a in stored], "follow_up_of": follow_up_of.number if follow_up_of else None,
        })
        ticket.first_message = message
        return ticket

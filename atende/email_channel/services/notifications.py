"""Ticket events → emails: agent replies to customers, and notifications rendered from admin-editable templates
in the recipient's language. Idempotent per (event id, recipient, kind) through the outbound queue's key."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery, prefetch_related_objects
from django.template import Context, Template
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.html import escape, linebreaks

from atende.accounts.models import User
from atende.core.memo import batch_cached
from atende.core.models import SiteConfiguration
from atende.core.prepared import padded, prepared_read
from atende.email_channel.choices import NotificationKind
from atende.email_channel.models import EmailSettings, Mailbox, NotificationTemplate
from atende.email_channel.services import addresses
from atende.email_channel.services.addresses import FIRST_MESSAGE_METADATA
from atende.email_channel.services.outbound import mails_queue
from atende.outbound.models import Delivery
from atende.outbound.selectors import delivery_external_ids_for_tickets
from atende.surveys.selectors import survey_url_for_ticket
from atende.tickets.choices import MessageKind, TicketEventType, TicketStatus
from atende.tickets.models import Attachment, Message, Ticket
from atende.tickets.selectors import (
    applied_first_reply_minutes_many,
    expected_reply_text,
    no_target_text,
    recipient_language,
    ticket_reply_routes,
)

logger = logging.getLogger(__name__)
LANGUAGES = ("en", "pt-br")
# The only events that can call for a mail (``_event_mails``); the events this app writes itself (sent, failed,
# bounced) are never answered by more mail.
MAILED_ON = frozenset({TicketEventType.TICKET_CREATED, TicketEventType.REPLY_ADDED, TicketEventType.STATUS_CHANGED,
                       TicketEventType.ASSIGNEE_CHANGED, TicketEventType.NOTE_ADDED})


def default_template(kind: str, language: str) -> tuple[str, str]:
    """The shipped template: first line ``Subject: …``, a blank line, then the body."""
    source = get_template(f"email_channel/notifications/{language}/{kind}.txt").template.source
    head, _, body = source.partition("\n\n")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


def _template(kind: str, language: str) -> tuple[Template, Template] | None:
    """The (subject, body) templates, read once per batch."""
    return batch_cached(("email.template", kind, language), lambda: _template_uncached(kind, language))


def _template_uncached(kind: str, language: str) -> tuple[Template, Template] | None:
    row = NotificationTemplate.objects.filter(kind=kind, language=language).first()
    if row is not None and not row.is_active:
        return None
    subject, body = (row.subject, row.body) if row is not None else default_template(kind, language)
    return _compiled(subject), _compiled(body)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    """A template's source compiled once per process: the row is still read once per batch (an admin's edit
    applies to the next batch), but the same text is not parsed again batch after batch."""
    return Template(source)


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str] | None:
    found = _template(kind, language)
    if found is None:
        return None
    subject_template, body_template = found
    with translation.override(language):
        ctx = Context(context, autoescape=False)
        subject = subject_template.render(ctx)
        body = body_template.render(ctx)
    return " ".join(subject.split()), body.strip() + "\n"


_NUMBER_MARK = 987654321


@functools.cache
def _ticket_path_format(area: str, script_prefix: str, urlconf: str | None) -> str:
    """The ticket page's path with ``{number}`` in place of the number: reversed once, not once per mail."""
    try:
        path = reverse(f"{area}:ticket", kwargs={"number": _NUMBER_MARK}, urlconf=urlconf)
    except NoReverseMatch:
        path = f"{script_prefix}{area}/tickets/{_NUMBER_MARK}/"
    return path.replace("{", "{{").replace("}", "}}").replace(str(_NUMBER_MARK), "{number}")


def ticket_url(ticket: Ticket, user: User) -> str:
    area = "console" if user.is_staff_member else "portal"
    path = _ticket_path_format(area, get_script_prefix(), get_urlconf()).format(number=int(ticket.number))
    return f"{settings.SITE_URL}{path}"


def survey_url(ticket: Ticket) -> str:
    try:
        return survey_url_for_ticket(ticket) or ""
    except Exception:  # noqa: BLE001 - a survey problem must not stop the "solved" mail
        logger.exception("survey link for ticket %s failed", ticket.pk)
        return ""


def _batch_tickets(*ids: int) -> QuerySet[Ticket]:
    first_metadata = Message.objects.filter(ticket=OuterRef("pk")).order_by("id").values("metadata")[:1]
    return Ticket.objects.select_related("requester", "team", "assignee") \
        .annotate(**{FIRST_MESSAGE_METADATA: Subquery(first_metadata)}).filter(pk__in=ids)


def _batch_users(*ids: int) -> QuerySet[User]:
    return User.objects.filter(pk__in=ids)


def _batch_messages(*ids: int) -> QuerySet[Message]:
    return Message.objects.select_related("author").filter(pk__in=ids)


def _in_bulk(shape: str, build, ids: set) -> dict[int, Any]:
    """``in_bulk(ids)`` (the ids a payload names, ints), its SQL compiled once per padded number of ids."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    if not all(type(i) is int for i in wanted):  # not a plain id: the ORM reads (or refuses) it as before
        return build(*wanted).in_bulk()
    return {row.pk: row for row in prepared_read(shape, build, padded(sorted(wanted)))}


class _Batch:
    """What the notifications of a batch of events read, loaded once for the batch: the tickets (with requester,
    team, assignee, followers and first message's metadata), the events' messages and users, the Message-IDs
    to thread with, the SLA targets acknowledgements state. The mails are collected and queued in one insert
    at the end (``mails_queue``)."""

    def __init__(self, payloads: list[dict[str, Any]]):
        datas = [p.get("data") or {} for p in payloads]
        ids = {int(p["ticket_id"]) for p in payloads}
        # The reads' SQL is compiled once per connection and padded number of ids (``core.prepared``).
        tickets = prepared_read("email.batch_tickets", _batch_tickets, padded(sorted(ids)))
        prefetch_related_objects(tickets, "followers")
        self.tickets = {t.pk: t for t in tickets}
        user_ids = {p.get("actor_user_id") for p in payloads} | {
            (d.get(name) or {}).get("id") for d in datas for name in ("assignee", "new") if isinstance(d.get(name), dict)}
        user_ids |= {u for d in datas for u in d.get("mentions") or []}
        self.users = _in_bulk("email.batch_users", _batch_users, user_ids)
        self.messages = _in_bulk("email.batch_messages", _batch_messages,
                                 {m for d in datas if (m := d.get("message_id"))})
        self._ticket_ids = ids
        created = any(p.get("type") == TicketEventType.TICKET_CREATED for p in payloads)
        self.first_reply: dict[int, int | None] = \
            applied_first_reply_minutes_many(self.tickets.values()) if created else {}
        self.mails: list[dict[str, Any]] = []
        self._per_event: dict[int, tuple[str, Mailbox | None, dict[str, str]]] = {}

    @cached_property
    def inbound(self) -> dict[int, list[str]]:
        """The external ids of the tickets' messages, oldest first: read when the batch's first mail is made, so a
        batch that sends none (chat messages, most of a busy desk's events) does not read every message of its
        tickets."""
        inbound: dict[int, list[str]] = {}
        for ticket_id, external_id in (Message.objects.filter(ticket_id__in=self._ticket_ids).exclude(external_id="")
                                       .order_by("id").values_list("ticket_id", "external_id")):
            inbound.setdefault(ticket_id, []).append(external_id)
        return inbound

    @cached_property
    def ours(self) -> dict[int, list[str]]:
        """The Message-IDs of the mail already queued for the tickets (the batch's own are added as queued)."""
        return delivery_external_ids_for_tickets(ticket_ids=self._ticket_ids, transport="mail")

    @cached_property
    def attachments(self) -> dict[int, list[int]]:
        """The ids of the files of the batch's messages, read at its first agent reply (the only mail that carries
        them)."""
        found: dict[int, list[int]] = {}
        for message_id, attachment_id in (Attachment.objects.filter(message_id__in=list(self.messages))
                                          .order_by("created_at", "id").values_list("message_id", "id")):
            found.setdefault(message_id, []).append(attachment_id)
        return found

    @cached_property
    def reply_routes(self) -> dict[int, dict[str, str]]:
        """Where each ticket's public replies go when not by email (``ticket_reply_route``), read for the batch's
        tickets at its first agent reply."""
        return ticket_reply_routes(self._ticket_ids)

    def user(self, user_id: int | None) -> User | None:
        return self.users.get(user_id) if user_id else None

    def first_reply_minutes(self, ticket: Ticket) -> int | None:
        return self.first_reply.get(ticket.pk)

    def sender_and_headers(self, ticket: Ticket, event_id: int) -> tuple[str, Mailbox | None, dict[str, str]]:
        """The same for every recipient of one event; In-Reply-To/References thread our mail with the
        conversation (the mails queued earlier in the batch count too)."""
        if event_id not in self._per_event:
            from_email, mailbox = _sender(ticket)
            inbound = self.inbound.get(ticket.pk, [])
            ids = [i for i in dict.fromkeys([*inbound, *self.ours.get(ticket.pk, [])]) if i.startswith("<")]
            headers = {"In-Reply-To": inbound[-1] if inbound else ids[-1], "References": " ".join(ids[-20:])} \
                if ids else {}
            self._per_event[event_id] = (from_email, mailbox, headers)
        return self._per_event[event_id]


def _sender(ticket: Ticket) -> tuple[str, Mailbox | None]:
    mailbox = addresses.mailbox_for_ticket(ticket)
    name = (mailbox.team.name if mailbox and mailbox.team_id else "") or (mailbox.name if mailbox else "")
    address = mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL
    return (f'"{name}" <{address}>' if name else address), mailbox


def _html(text: str, extra_html: str = "") -> str:
    body = linebreaks(escape(text))
    if extra_html:
        body = body.replace(escape("{{ message_html }}"), extra_html)
    return f'<div style="font-family:sans-serif;font-size:14px;line-height:1.5">{body}</div>'


def _queue(batch: _Batch, *, kind: str, ticket: Ticket, recipient: User, event_id: int, context: dict[str, Any],
           cc: list[str] = (), message: Message | None = None, auto_generated: bool = True) -> None:
    """Render the mail for one recipient and add it to the batch's mails (undeliverable addresses, bounced for
    good or reported as spam, are left out when the batch is queued: docs/email.md "Bounces")."""
    if not recipient.is_active or not recipient.email or addresses.is_own_address(recipient.email):
        return
    language = recipient_language(recipient, ticket)
    rendered = render(kind, language, {**context, "recipient": recipient, "ticket": ticket,
                                       "ticket_url": ticket_url(ticket, recipient)})
    if rendered is None:
        return
    subject, body = rendered
    from_email, mailbox, headers = batch.sender_and_headers(ticket, event_id)
    domain = (from_email or settings.DEFAULT_FROM_EMAIL).rsplit("@", 1)[-1].strip(">")
    message_id = addresses.new_message_id(ticket.pk, domain)
    batch.ours.setdefault(ticket.pk, []).append(message_id)
    batch.mails.append(dict(
        to=[recipient.email], cc=cc, subject=addresses.subject_with_tag(ticket, subject), body_text=body,
        body_html=_html(body), from_email=from_email, reply_to=addresses.ticket_address(ticket, mailbox),
        headers=headers, ticket=ticket, ticket_message_id=message.pk if message else None, message_id=message_id,
        event_id=event_id, kind=kind, dedupe_key=f"{event_id}:{recipient.email}:{kind}",
        attachment_ids=batch.attachments.get(message.pk, []) if message and not auto_generated else (),
        auto_generated=auto_generated,
    ))


def _agents_of_team(team_id: int | None) -> list[User]:
    if not team_id:
        return []
    return batch_cached(("email.team_agents", team_id), lambda: _team_agents(team_id))


def _team_agents(team_id: int) -> list[User]:
    return list(User.objects.filter(teams=team_id, is_active=True, role__in=["admin", "agent"]))


def _followers(ticket: Ticket) -> list[User]:
    return [u for u in ticket.followers.all() if u.is_active]  # prefetched with the batch


def notifications_for_event(payload: dict[str, Any]) -> list[Delivery]:
    """Queue every email one ticket event calls for. Safe to run twice for the same event."""
    return notifications_for_events([payload])


def notifications_for_events(payloads: list[dict[str, Any]]) -> list[Delivery]:
    """Queue every email a batch of ticket events calls for, in one insert. Safe to run twice for the same
    events: the queue's key per (event, recipient, kind) lets each mail in once."""
    payloads = [p for p in payloads if p.get("type") in MAILED_ON and p.get("ticket_id") and p.get("event_id")]
    if not payloads:
        return []
    batch = _Batch(payloads)
    for payload in payloads:
        _event_mails(batch, payload)
    return [row for row in mails_queue(batch.mails) if row is not None]


def _event_mails(batch: _Batch, payload: dict[str, Any]) -> None:
    event_type = payload.get("type")
    ticket = batch.tickets.get(int(payload["ticket_id"]))
    if ticket is None or ticket.is_spam or ticket.merged_into_id:
        return
    event_id = int(payload["event_id"])
    actor_id = payload.get("actor_user_id")
    data = payload.get("data") or {}
    actor = batch.user(actor_id)
    base = {"actor_name": actor.display_name if actor else "", "site_name": batch_cached("email.site_name", _site_name)}
    message = batch.messages.get(data.get("message_id"))

    if event_type == TicketEventType.TICKET_CREATED:
        first = message
        config = batch_cached("email.settings", EmailSettings.load)
        already_acknowledged = first is not None and (first.metadata or {}).get("acknowledged")  # e.g. contact form
        if first is not None and first.author_kind == "customer" and config.send_acknowledgements \
                and not already_acknowledged:
            # Notifications run after SLA: the acknowledgement states the first-reply target that applies.
            language = recipient_language(ticket.requester, ticket)
            expected = expected_reply_text(batch.first_reply_minutes(ticket), language=language) or \
                no_target_text(language=language)
            _queue(batch, kind=NotificationKind.ACKNOWLEDGEMENT, ticket=ticket, recipient=ticket.requester,
                   event_id=event_id, context={**base, "message_text": first.body_text, "expected_reply": expected})
        elif first is not None and first.author_kind == "agent" and first.kind == MessageKind.REPLY:
            _agent_reply(batch, ticket, first, event_id, base)
        # Who to tell comes from the event (the ticket may have moved on since it was created).
        team_id = (data.get("team") or {}).get("id")
        assignee_id = (data.get("assignee") or {}).get("id")
        for agent in _agents_of_team(team_id):
            if agent.pk != actor_id and agent.pk != assignee_id:
                _queue(batch, kind=NotificationKind.TEAM_NEW_TICKET, ticket=ticket, recipient=agent,
                       event_id=event_id, context={**base, "message_text": first.body_text if first else ""})
        assignee = batch.user(assignee_id)
        if assignee is not None and assignee.pk != actor_id:
            _queue(batch, kind=NotificationKind.TICKET_ASSIGNED, ticket=ticket, recipient=assignee,
                   event_id=event_id, context=base)
    elif message is not None and message.ticket_id != ticket.pk:
        return  # a message of another ticket: nothing to tell about this one
    elif event_type == TicketEventType.REPLY_ADDED:
        if message is None or message.kind != MessageKind.REPLY or message.channel == "chat":
            return
        if message.author_kind == "agent":
            _agent_reply(batch, ticket, message, event_id, base)
        else:
            watchers = [ticket.assignee] if ticket.assignee_id else _agents_of_team(ticket.team_id)
            watchers += [u for u in _followers(ticket) if u.is_staff_member]
            for agent in {u.pk: u for u in watchers if u is not None}.values():
                if agent.pk != actor_id:
                    _queue(batch, kind=NotificationKind.CUSTOMER_REPLIED, ticket=ticket, recipient=agent,
                           event_id=event_id, context={**base, "message_text": message.body_text}, message=message)
    elif event_type == TicketEventType.STATUS_CHANGED and data.get("new") == TicketStatus.SOLVED:
        _queue(batch, kind=NotificationKind.REQUEST_SOLVED, ticket=ticket, recipient=ticket.requester,
               event_id=event_id, context={**base, "survey_url": survey_url(ticket),
                                           "resolution": ticket.resolution_summary})
    elif event_type == TicketEventType.ASSIGNEE_CHANGED:
        new = (data.get("new") or {}).get("id") if isinstance(data.get("new"), dict) else None
        assignee = batch.user(new)
        if assignee is not None and assignee.pk != actor_id:
            _queue(batch, kind=NotificationKind.TICKET_ASSIGNED, ticket=ticket, recipient=assignee,
                   event_id=event_id, context=base)
    elif event_type == TicketEventType.NOTE_ADDED:
        mentioned = [batch.user(u) for u in data.get("mentions") or []]
        for user in {u.pk: u for u in mentioned if u is not None and u.is_active}.values():
            if user.pk != actor_id and user.is_staff_member:
                _queue(batch, kind=NotificationKind.NOTE_MENTION, ticket=ticket, recipient=user, event_id=event_id,
                       context={**base, "message_text": message.body_text if message else ""})


def _agent_reply(batch: _Batch, ticket: Ticket, message: Message, event_id: int, base: dict[str, Any]) -> None:
    """The agent's public reply, mailed to the requester with the customer CCs, as a human message. Not when the
    customer last wrote from a messaging app: the reply goes back there instead (atende.messaging)."""
    if ticket.pk in batch.reply_routes:
        return
    author = message.author
    signature = (author.signature or "").strip() if author else ""
    context = {**base, "message_text": message.body_text, "agent_name": author.display_name if author else "",
               "signature": signature}
    ccs = [u.email for u in _followers(ticket) if not u.is_staff_member and u.email != ticket.requester.email]
    _queue(batch, kind=NotificationKind.AGENT_REPLY, ticket=ticket, recipient=ticket.requester, event_id=event_id,
           context=context, cc=ccs, message=message, auto_generated=False)


def _site_name() -> str:
    try:
        return SiteConfiguration.load().name
    except Exception:  # noqa: BLE001
        return "Atende"

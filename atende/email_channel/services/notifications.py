"""Ticket events → emails: agent replies to customers, and notifications rendered from admin-editable templates
in the recipient's language. Idempotent per (event id, recipient, kind) through the outbound queue's key."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.template import Context, Template
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import escape, linebreaks

from atende.accounts.models import User
from atende.core.memo import batch_cached
from atende.core.models import SiteConfiguration
from atende.email_channel.choices import NotificationKind
from atende.email_channel.models import EmailSettings, Mailbox, NotificationTemplate
from atende.email_channel.selectors import undeliverable_among
from atende.email_channel.services import addresses
from atende.email_channel.services.outbound import mail_queue
from atende.outbound.models import Delivery
from atende.outbound.selectors import delivery_external_ids_for_ticket
from atende.surveys.selectors import survey_url_for_ticket
from atende.tickets.choices import MessageKind, TicketEventType, TicketStatus
from atende.tickets.models import Message, Ticket
from atende.tickets.selectors import (
    applied_first_reply_minutes,
    expected_reply_text,
    no_target_text,
    recipient_language,
    ticket_reply_route,
)

logger = logging.getLogger(__name__)
LANGUAGES = ("en", "pt-br")
# Events this app writes itself: never answered by more mail.
_OWN_EVENTS = {TicketEventType.NOTIFICATION_SENT, TicketEventType.NOTIFICATION_FAILED, TicketEventType.EMAIL_BOUNCED}


def default_template(kind: str, language: str) -> tuple[str, str]:
    """The shipped template: first line ``Subject: …``, a blank line, then the body."""
    source = get_template(f"email_channel/notifications/{language}/{kind}.txt").template.source
    head, _, body = source.partition("\n\n")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


def _template(kind: str, language: str) -> tuple[Template, Template] | None:
    """The (subject, body) templates, parsed once per batch."""
    return batch_cached(("email.template", kind, language), lambda: _template_uncached(kind, language))


def _template_uncached(kind: str, language: str) -> tuple[str, str] | None:
    row = NotificationTemplate.objects.filter(kind=kind, language=language).first()
    if row is not None and not row.is_active:
        return None
    subject, body = (row.subject, row.body) if row is not None else default_template(kind, language)
    return Template(subject), Template(body)


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


def ticket_url(ticket: Ticket, user: User) -> str:
    area = "console" if user.is_staff_member else "portal"
    try:
        path = reverse(f"{area}:ticket_detail", kwargs={"number": ticket.number})
    except NoReverseMatch:
        path = f"/{area}/tickets/{ticket.number}/"
    return f"{settings.SITE_URL}{path}"


def survey_url(ticket: Ticket) -> str:
    try:
        return survey_url_for_ticket(ticket) or ""
    except Exception:  # noqa: BLE001 - a survey problem must not stop the "solved" mail
        logger.exception("survey link for ticket %s failed", ticket.pk)
        return ""


def _thread_headers(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To/References so the customer's client threads our mail with the conversation."""
    inbound = list(Message.objects.filter(ticket=ticket).exclude(external_id="").order_by("id")
                   .values_list("external_id", flat=True))
    ours = delivery_external_ids_for_ticket(ticket_id=ticket.pk, transport="mail")
    ids = [i for i in dict.fromkeys([*inbound, *ours]) if i.startswith("<")]
    if not ids:
        return {}
    last = inbound[-1] if inbound else ids[-1]
    return {"In-Reply-To": last, "References": " ".join(ids[-20:])}


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


def _queue(*, kind: str, ticket: Ticket, recipient: User, event_id: int, context: dict[str, Any],
           cc: list[str] = (), message: Message | None = None, auto_generated: bool = True) -> Delivery | None:
    if not recipient.is_active or not recipient.email or addresses.is_own_address(recipient.email):
        return None
    if undeliverable_among([recipient.email]):  # bounced for good or reported as spam (docs/email.md "Bounces")
        return None
    dead = undeliverable_among(cc)
    cc = [address for address in cc if address.lower() not in dead]
    language = recipient_language(recipient, ticket)
    rendered = render(kind, language, {**context, "recipient": recipient, "ticket": ticket,
                                       "ticket_url": ticket_url(ticket, recipient)})
    if rendered is None:
        return None
    subject, body = rendered
    # The same for every recipient of this event: worked out once.
    from_email, mailbox = batch_cached(("email.sender", event_id), lambda: _sender(ticket))
    headers = batch_cached(("email.thread_headers", event_id), lambda: _thread_headers(ticket))
    return mail_queue(
        to=[recipient.email], cc=cc, subject=addresses.subject_with_tag(ticket, subject), body_text=body,
        body_html=_html(body), from_email=from_email, reply_to=addresses.ticket_address(ticket, mailbox),
        headers=headers, ticket=ticket, ticket_message_id=message.pk if message else None,
        event_id=event_id, kind=kind, dedupe_key=f"{event_id}:{recipient.email}:{kind}",
        attachment_ids=list(message.attachments.values_list("id", flat=True)) if message and not auto_generated else (),
        auto_generated=auto_generated,
    )


def _agents_of_team(team_id: int | None) -> list[User]:
    if not team_id:
        return []
    return batch_cached(("email.team_agents", team_id), lambda: _team_agents(team_id))


def _team_agents(team_id: int) -> list[User]:
    return list(User.objects.filter(teams=team_id, is_active=True, role__in=["admin", "agent"]))


def _staff_followers(ticket: Ticket) -> list[User]:
    return [u for u in ticket.followers.filter(is_active=True) if u.is_staff_member]


def _customer_ccs(ticket: Ticket) -> list[str]:
    return [u.email for u in ticket.followers.filter(is_active=True) if not u.is_staff_member]


def notifications_for_event(payload: dict[str, Any]) -> list[Delivery]:
    """Queue every email one ticket event calls for. Safe to run twice for the same event."""
    event_type = payload.get("type")
    if event_type in _OWN_EVENTS or not payload.get("ticket_id") or not payload.get("event_id"):
        return []
    ticket = Ticket.objects.select_related("requester", "team", "assignee").filter(pk=payload["ticket_id"]).first()
    if ticket is None or ticket.is_spam or ticket.merged_into_id:
        return []
    event_id = int(payload["event_id"])
    actor_id = payload.get("actor_user_id")
    data = payload.get("data") or {}
    queued: list[Delivery | None] = []
    base = {"actor_name": _name(actor_id), "site_name": batch_cached("email.site_name", _site_name)}

    if event_type == TicketEventType.TICKET_CREATED:
        first = Message.objects.filter(pk=data.get("message_id")).first()
        config = batch_cached("email.settings", EmailSettings.load)
        already_acknowledged = first is not None and (first.metadata or {}).get("acknowledged")  # e.g. contact form
        if first is not None and first.author_kind == "customer" and config.send_acknowledgements \
                and not already_acknowledged:
            # Notifications run after SLA: the acknowledgement states the first-reply target that applies.
            language = recipient_language(ticket.requester, ticket)
            expected = expected_reply_text(applied_first_reply_minutes(ticket), language=language) or \
                no_target_text(language=language)
            queued.append(_queue(kind=NotificationKind.ACKNOWLEDGEMENT, ticket=ticket, recipient=ticket.requester,
                                 event_id=event_id, context={**base, "message_text": first.body_text,
                                                             "expected_reply": expected}))
        elif first is not None and first.author_kind == "agent" and first.kind == MessageKind.REPLY:
            queued.append(_agent_reply(ticket, first, event_id, base))
        # Who to tell comes from the event (the ticket may have moved on since it was created).
        team_id = (data.get("team") or {}).get("id")
        assignee_id = (data.get("assignee") or {}).get("id")
        for agent in _agents_of_team(team_id):
            if agent.pk != actor_id and agent.pk != assignee_id:
                queued.append(_queue(kind=NotificationKind.TEAM_NEW_TICKET, ticket=ticket, recipient=agent,
                                     event_id=event_id, context={**base, "message_text": first.body_text if first else ""}))
        assignee = User.objects.filter(pk=assignee_id).first() if assignee_id else None
        if assignee is not None and assignee.pk != actor_id:
            queued.append(_queue(kind=NotificationKind.TICKET_ASSIGNED, ticket=ticket, recipient=assignee,
                                 event_id=event_id, context=base))
    elif event_type == TicketEventType.REPLY_ADDED:
        message = Message.objects.filter(pk=data.get("message_id"), ticket=ticket).select_related("author").first()
        if message is None or message.kind != MessageKind.REPLY or message.channel == "chat":
            return []
        if message.author_kind == "agent":
            queued.append(_agent_reply(ticket, message, event_id, base))
        else:
            watchers = [ticket.assignee] if ticket.assignee_id else _agents_of_team(ticket.team_id)
            watchers += _staff_followers(ticket)
            for agent in {u.pk: u for u in watchers if u is not None}.values():
                if agent.pk != actor_id:
                    queued.append(_queue(kind=NotificationKind.CUSTOMER_REPLIED, ticket=ticket, recipient=agent,
                                         event_id=event_id, context={**base, "message_text": message.body_text},
                                         message=message))
    elif event_type == TicketEventType.STATUS_CHANGED and data.get("new") == TicketStatus.SOLVED:
        queued.append(_queue(kind=NotificationKind.REQUEST_SOLVED, ticket=ticket, recipient=ticket.requester,
                             event_id=event_id, context={**base, "survey_url": survey_url(ticket),
                                                         "resolution": ticket.resolution_summary}))
    elif event_type == TicketEventType.ASSIGNEE_CHANGED:
        new = (data.get("new") or {}).get("id") if isinstance(data.get("new"), dict) else None
        assignee = User.objects.filter(pk=new).first() if new else None
        if assignee is not None and assignee.pk != actor_id:
            queued.append(_queue(kind=NotificationKind.TICKET_ASSIGNED, ticket=ticket, recipient=assignee,
                                 event_id=event_id, context=base))
    elif event_type == TicketEventType.NOTE_ADDED:
        note = Message.objects.filter(pk=data.get("message_id"), ticket=ticket).first()
        for user in User.objects.filter(pk__in=data.get("mentions") or [], is_active=True):
            if user.pk != actor_id and user.is_staff_member:
                queued.append(_queue(kind=NotificationKind.NOTE_MENTION, ticket=ticket, recipient=user,
                                     event_id=event_id, context={**base, "message_text": note.body_text if note else ""}))
    return [q for q in queued if q is not None]


def _agent_reply(ticket: Ticket, message: Message, event_id: int, base: dict[str, Any]) -> Delivery | None:
    """The agent's public reply, mailed to the requester with the customer CCs, as a human message. Not when the
    customer last wrote from a messaging app: the reply goes back there instead (atende.messaging)."""
    if ticket_reply_route(ticket) is not None:
        return None
    author = message.author
    signature = (author.signature or "").strip() if author else ""
    context = {**base, "message_text": message.body_text, "agent_name": author.display_name if author else "",
               "signature": signature}
    return _queue(kind=NotificationKind.AGENT_REPLY, ticket=ticket, recipient=ticket.requester, event_id=event_id,
                  context=context, cc=[c for c in _customer_ccs(ticket) if c != ticket.requester.email],
                  message=message, auto_generated=False)


def _name(user_id: int | None) -> str:
    if not user_id:
        return ""
    user = User.objects.filter(pk=user_id).only("name", "email").first()
    return user.display_name if user else ""


def _site_name() -> str:
    try:
        return SiteConfiguration.load().name
    except Exception:  # noqa: BLE001
        return "Atende"

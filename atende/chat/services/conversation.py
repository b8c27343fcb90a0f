"""The visitor's side of a conversation: start, the bot step, messages, handover, end, rating, transcript.

Visitors are not signed in: they act through a signed visitor token (``chat.tokens``), checked by the
consumer or view before these services run. Every message with a person is a public reply on the chat's ticket
(``tickets.services.message_add_reply``), so the ticket's thread is the transcript and its REPLY_ADDED events
reach SLA, triggers and reports like any other reply.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import User
from atende.accounts.services import normalize_email
from atende.chat import realtime
from atende.chat.answerer import Answer, get_answerer
from atende.chat.choices import ChatOutcome, ChatStatus
from atende.chat.models import ChatSession, Widget
from atende.chat.selectors import message_row, session_messages, transcript_text
from atende.chat.services._common import (
    clean_text,
    lock_session,
    lock_with_ticket,
    push_state,
    resend_key,
    sent_before,
)
from atende.chat.services.agents import chat_route
from atende.chat.tokens import identity_signature_valid
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, ValidationError
from atende.core.throttle import throttle_or_raise
from atende.email_channel.services.outbound import mail_queue
from atende.kb.models import Article
from atende.kb.selectors import article_list_for_user
from atende.kb.services import deflection_start, deflections_abandon, deflections_mark_submitted
from atende.surveys.services import survey_answer
from atende.tickets.choices import Channel
from atende.tickets.services import message_add_reply, ticket_assign, ticket_create
from atende.tickets.services.attachments import IncomingFile, validate_file


def _visitor_email(email: str, *, required: bool) -> str:
    email = (email or "").strip()
    if not email:
        if required:
            raise ValidationError(_("Enter your email address."), code="email_required", details={"email": "required"})
        return ""
    try:
        return normalize_email(email[:254])
    except ValidationError:
        raise ValidationError(_("Enter a valid email address."), code="invalid_email", details={"email": "invalid"})


def visitor_contact(*, session: ChatSession) -> User:
    """The customer a conversation belongs to, found through their contact identity: the email identity when the
    visitor gave one (an existing customer with that address is matched); otherwise a customer without an email,
    known by a ``chat`` identity whose value is the visitor id."""
    if session.email:
        return customer_find_or_create(kind=IdentityKind.EMAIL, value=session.email, name=session.name,
                                       locale=session.language)
    return customer_find_or_create(kind=IdentityKind.CHAT, value=session.visitor_id,
                                   name=session.name or _("Chat visitor"), locale=session.language)


def deflection_key(visitor_id: str) -> str:
    """Chat's deflections are the portal's (``kb.Deflection``), keyed by the visitor instead of a web session."""
    return f"chat:{visitor_id}"


@transaction.atomic
def chat_suggestion_opened(*, widget: Widget, visitor_id: str, article_id: int, query: str = "") -> None:
    """The visitor opened an article suggested on the pre-chat form. Pending until they start the chat anyway
    (then not a deflection) or the deflection window passes without one (then a deflection)."""
    article = article_list_for_user(user=AnonymousUser()).filter(pk=article_id).first()
    if article is None or ChatSession.objects.filter(visitor_id=visitor_id).exists():
        return
    deflection_start(article=article, session_key=deflection_key(visitor_id), customer=None, query=query[:500])


def _actor(session: ChatSession) -> Actor:
    return Actor(kind="customer", user=session.customer)


def _turn(session: ChatSession, sender: str, text: str, *, cid: str = "", answer: Answer | None = None) -> dict:
    turn = {"id": f"b{len(session.bot_turns) + 1}", "from": sender, "text": text, "author": "",
            "at": timezone.now().isoformat(), "cid": cid, "articles": answer.as_json()["articles"] if answer else []}
    session.bot_turns = [*session.bot_turns, turn]
    return turn


@transaction.atomic
def chat_start(*, widget: Widget, visitor_id: str, question, name="", email="", language: str = "",
               page_url: str = "", identity: dict | None = None, client_ip: str = "") -> ChatSession:
    """Open a conversation from the pre-chat form. With the bot on it answers the question at once; with it off
    (or nothing to suggest) the conversation goes straight to the queue."""
    throttle_or_raise("chat.start.ip", client_ip or "unknown",
                      message=_("Too many conversations from your network. Try again in a few minutes."))
    if ChatSession.objects.filter(visitor_id=visitor_id).exists():
        raise Conflict(_("This conversation has already started."), code="chat_exists")
    question = clean_text(question, field="question")
    name = clean_text(name, field="name", required=False, limit=200)
    identified = False
    if identity and identity_signature_valid(secret=widget.secret, email=str(identity.get("email", "")),
                                             signature=str(identity.get("signature", ""))):
        email, identified = str(identity["email"]), True
        name = name or clean_text(identity.get("name", ""), field="name", required=False, limit=200)
    email = _visitor_email(email if isinstance(email, str) else "",
                           required=widget.ask_email and widget.email_required and not identified)
    session = ChatSession(widget=widget, visitor_id=visitor_id, team=widget.team, name=name, email=email,
                          identified=identified, question=question, language=(language or "")[:10],
                          page_url=page_url[:1000] if str(page_url).startswith(("http://", "https://")) else "")
    _turn(session, "visitor", question)
    if widget.bot_enabled:
        answer = get_answerer().answer(question=question, language=session.language)
        _turn(session, "bot", answer.text, answer=answer)
    session.full_clean(exclude=["customer", "ticket", "team", "agent", "offered_to"])
    session.save()
    deflections_mark_submitted(session_key=deflection_key(visitor_id))  # suggestions read before asking anyway
    if not widget.bot_enabled or not session.bot_turns[-1]["articles"]:
        return chat_handover(session=session)
    push_state(session)
    return session


@transaction.atomic
def chat_handover(*, session: ChatSession) -> ChatSession:
    """"Talk to a person": the conversation becomes a ticket (channel chat, the transcript so far as its first
    messages, the bot's turns included) and waits in the team's queue."""
    session = lock_session(session)
    if session.status != ChatStatus.BOT:
        return session
    session.customer = session.customer or visitor_contact(session=session)
    actor = _actor(session)
    turns = session.bot_turns
    first = turns[0]
    subject = " ".join(session.question.split())[:80] or _("Chat")
    ticket = ticket_create(actor=actor, requester=session.customer, subject=subject, body_text=first["text"],
                           channel=Channel.CHAT, team=None, language=session.language,
                           message_metadata={"chat_session": session.pk, "chat_turn": 0})
    if session.team_id:  # customers may not set a team; the widget's routing does, as the system
        ticket = ticket_assign(ticket=ticket, actor=Actor.system(), team=session.team, assignee=None,
                               reason="chat_widget")
    for index, turn in enumerate(turns[1:], start=1):
        metadata = {"chat_session": session.pk, "chat_turn": index, "chat_cid": turn.get("cid", ""),
                    "chat_articles": turn.get("articles", [])}
        if turn["from"] == "bot":
            message_add_reply(ticket=ticket, actor=Actor.automation(), body_text=turn["text"], channel=Channel.CHAT,
                              metadata=metadata, automated=True)
        else:
            message_add_reply(ticket=ticket, actor=actor, author=session.customer, body_text=turn["text"],
                              channel=Channel.CHAT, metadata=metadata)
    session.ticket = ticket
    session.status = ChatStatus.QUEUED
    session.queued_at = timezone.now()
    session.save(update_fields=["customer", "ticket", "status", "queued_at", "updated_at"])
    chat_route(session=session)
    session.refresh_from_db()
    realtime.push_to_session(session.pk, {"type": "history", "messages": session_messages(session)})
    push_state(session)
    realtime.push_queue_changed(session.team_id)
    return session


@transaction.atomic
def chat_visitor_message(*, session: ChatSession | int, text, client_id: str = "", client_ip: str = "",
                         locked: bool = False, counted: bool = False) -> dict:
    """A visitor's message, delivered once per ``client_id`` (a resent message after a reconnect is not
    stored twice). During the bot step any further message hands over to a person. ``session``: the
    conversation or its id (the websocket knows the id; the locked read is then the only read of it).
    ``locked``: ``session`` was read with its ticket and customer under lock in this transaction
    (``lock_group``). ``counted``: the caller counted the message against the limits (``visitor_throttle``)
    before the transaction."""
    client_id = str(client_id or "")[:64]
    if not locked:
        session = lock_with_ticket(session, related=("customer",))  # what a message needs
    if not counted:
        visitor_throttle(session.visitor_id, client_ip)
    text = visitor_text(session, text)
    if session.status == ChatStatus.BOT:
        if client_id and any(t.get("cid") == client_id for t in session.bot_turns):
            return next(t for t in session.bot_turns if t.get("cid") == client_id)
        turn = _turn(session, "visitor", text, cid=client_id)
        session.save(update_fields=["bot_turns", "updated_at"])
        chat_handover(session=session)
        return turn
    return _visitor_reply(session, client_id, body_text=text)


def visitor_text(session: ChatSession, text) -> str:
    """A visitor's message text as stored, refused when the conversation has ended."""
    text = clean_text(text)
    if session.status == ChatStatus.ENDED:
        raise Conflict(_("This conversation has ended."), code="chat_ended")
    return text


def visitor_throttle(visitor_id: str, client_ip: str) -> None:
    """Messages and files count against the same limits."""
    throttle_or_raise("chat.message.visitor", visitor_id,
                      message=_("You are sending messages too fast. Wait a moment."))
    throttle_or_raise("chat.message.ip", client_ip or "unknown",
                      message=_("Too many messages from your network. Wait a moment."))


def _visitor_reply(session: ChatSession, client_id: str, **content) -> dict:
    """The visitor's public reply on the chat's ticket (text or a file), stored once per ``client_id`` and pushed
    to both sides after the commit."""
    external_id = resend_key(session.pk, client_id)
    existing = sent_before(session, external_id)
    if existing is not None:
        return message_row(existing)
    push = realtime.reserve_push(session.pk)
    message = message_add_reply(ticket=session.ticket, actor=_actor(session), author=session.customer,
                                channel=Channel.CHAT, external_id=external_id, locked=True,
                                metadata={"chat_session": session.pk, "chat_cid": client_id}, **content)
    row = message_row(message, files=None if content.get("attachments") else [])
    push.update({"type": "message", "message": row})
    return row


@transaction.atomic
def chat_bot_solved(*, session: ChatSession, article_id: int | None = None) -> ChatSession:
    """"This solved it": the conversation ends without a ticket and counts as deflected, in the same figures as
    the portal's request form (``kb.Deflection``, keyed by the conversation)."""
    session = lock_session(session)
    if session.status != ChatStatus.BOT:
        raise Conflict(_("This conversation is no longer with the bot."), code="chat_not_with_bot")
    offered = [a["id"] for turn in session.bot_turns for a in turn.get("articles", [])]
    chosen = article_id if article_id in offered else (offered[0] if offered else None)
    article = Article.objects.filter(pk=chosen).first() if chosen else None
    if article is not None:
        key = deflection_key(session.visitor_id)
        deflection_start(article=article, session_key=key, customer=None, query=session.question)
        deflections_abandon(session_key=key)
    session.status, session.outcome, session.ended_at = ChatStatus.ENDED, ChatOutcome.SOLVED_BY_BOT, timezone.now()
    session.save(update_fields=["status", "outcome", "ended_at", "updated_at"])
    push_state(session)
    return session


@transaction.atomic
def chat_visitor_end(*, session: ChatSession) -> ChatSession:
    """The visitor closed the conversation. A ticket stays as it is: the agent can still answer by email."""
    session = lock_session(session)
    if session.status == ChatStatus.ENDED:
        return session
    was_queued = session.status == ChatStatus.QUEUED
    session.status, session.outcome, session.ended_at = ChatStatus.ENDED, ChatOutcome.ENDED_BY_VISITOR, timezone.now()
    session.save(update_fields=["status", "outcome", "ended_at", "updated_at"])
    push_state(session)
    if was_queued or session.agent_id:
        realtime.push_queue_changed(session.team_id)
    return session


@transaction.atomic
def chat_rate(*, session: ChatSession, rating: str, comment: str = ""):
    """The satisfaction rating at the end of a chat: the ticket's survey answer (``surveys``)."""
    if not session.ticket_id:
        raise Conflict(_("Only conversations with a person can be rated."), code="chat_no_ticket")
    comment = clean_text(comment, field="comment", required=False, limit=2000)
    return survey_answer(ticket=session.ticket, rating=rating, comment=comment, actor=_actor(session))


@transaction.atomic
def chat_transcript_send(*, session: ChatSession):
    """Email the transcript to the conversation's own address (never to an address typed at this moment, so the
    widget cannot be used to send mail to strangers); once per conversation."""
    session = lock_session(session)
    if not session.email:
        raise ValidationError(_("No email address is known for this conversation."), code="email_unknown")
    if session.transcript_sent_at is not None:
        return None
    session.transcript_sent_at = timezone.now()
    session.save(update_fields=["transcript_sent_at", "updated_at"])
    return mail_queue(to=[session.email], subject=_("Your chat transcript"), body_text=transcript_text(session),
                      ticket=session.ticket, kind="chat_transcript", dedupe_key=f"chat-transcript:{session.pk}")


@transaction.atomic
def chat_offline_submit(*, widget: Widget, visitor_id: str, name, email, question, honeypot: str = "",
                        language: str = "", page_url: str = "", client_ip: str = "") -> ChatSession:
    """Nobody is online: the pre-chat form becomes a ticket answered by email."""
    if honeypot:
        raise ValidationError(_("Your message could not be sent."), code="spam_suspected")
    throttle_or_raise("chat.offline.ip", client_ip or "unknown",
                      message=_("Too many requests from your network. Try again later."))
    email = _visitor_email(email, required=True)
    question = clean_text(question, field="question")
    name = clean_text(name, field="name", required=False, limit=200)
    session = ChatSession.objects.create(
        widget=widget, visitor_id=visitor_id, team=widget.team, name=name, email=email, question=question,
        language=(language or "")[:10], status=ChatStatus.ENDED, outcome=ChatOutcome.OFFLINE_FORM,
        ended_at=timezone.now(), page_url=page_url[:1000] if str(page_url).startswith(("http://", "https://")) else "")
    session.customer = visitor_contact(session=session)
    ticket = ticket_create(actor=_actor(session), requester=session.customer,
                           subject=" ".join(question.split())[:80], body_text=question, channel=Channel.CHAT,
                           language=session.language, message_metadata={"chat_session": session.pk,
                                                                        "chat_offline": True})
    if session.team_id:
        ticket = ticket_assign(ticket=ticket, actor=Actor.system(), team=session.team, assignee=None,
                               reason="chat_widget")
    session.ticket = ticket
    session.save(update_fields=["customer", "ticket", "updated_at"])
    return session


@transaction.atomic
def chat_visitor_attach(*, session: ChatSession, upload, client_id: str = "", client_ip: str = "") -> dict:
    """A file the visitor sends (a screenshot): a public reply on the chat's ticket carrying it as a ticket
    attachment, so it passes the tickets' size and type checks and is stored and served like any other.
    Rate-limited as a message; only while a person handles the conversation (there is no ticket before)."""
    client_id = str(client_id or "")[:64]
    visitor_throttle(session.visitor_id, client_ip)
    if upload is None:
        raise ValidationError(_("Choose a file to send."), code="attachment_missing", details={"file": "required"})
    incoming = IncomingFile.from_upload(upload)
    validate_file(incoming)  # before any lock or row: a refused file leaves nothing behind
    session = lock_with_ticket(session, related=("customer",))
    if session.status == ChatStatus.ENDED:
        raise Conflict(_("This conversation has ended."), code="chat_ended")
    if not session.ticket_id or session.status == ChatStatus.BOT:
        raise Conflict(_("Files can be sent once a person joins the conversation."), code="chat_not_with_person")
    return _visitor_reply(session, client_id, attachments=[incoming])

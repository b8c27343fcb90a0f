"""The agents' side: routing a waiting conversation, accepting, replying, transferring and ending.

Routing: a conversation waiting in a team's queue is offered to an available agent of that team (online in the
console, connected, under their chat capacity): the least loaded first, and among equals the one who was
offered a chat longest ago (round robin). Any agent of the team may accept a waiting conversation; an offer
not accepted within ``CHAT_OFFER_SECONDS`` moves on to the next agent (``chats_reoffer``, run on the agents'
heartbeats).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.accounts.models import Team, User
from atende.audit.services import audit_settings_saved, model_snapshot
from atende.chat import realtime
from atende.chat.choices import ChatOutcome, ChatStatus
from atende.chat.models import ChatAgentSetting, ChatSession
from atende.chat.selectors import agents_available, chat_may_handle, message_row
from atende.chat.services._common import (
    clean_text,
    lock_session,
    lock_with_ticket,
    push_state,
    resend_key,
    sent_before,
)
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.tickets.choices import Channel, TicketStatus
from atende.tickets.models import Ticket
from atende.tickets.services import message_add_reply, ticket_assign, ticket_transition
from atende.tickets.services.attachments import IncomingFile, validate_file


def offer_seconds() -> int:
    return getattr(settings, "CHAT_OFFER_SECONDS", 30)


def _pick(session: ChatSession, *, exclude: set[int] = frozenset()) -> User | None:
    candidates = [(agent, load) for agent, load in agents_available(team_id=session.team_id) if agent.pk not in exclude]
    if not candidates:
        return None
    last_offer = dict(ChatSession.objects.filter(offered_to__in=[a.pk for a, _ in candidates])
                      .values("offered_to").annotate(last=Max("offered_at")).values_list("offered_to", "last"))
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return min(candidates, key=lambda row: (row[1], last_offer.get(row[0].pk) or oldest, row[0].pk))[0]


@transaction.atomic
def chat_route(*, session: ChatSession, exclude: set[int] = frozenset()) -> ChatSession:
    """Offer a waiting conversation to the next available agent (or to nobody, when none is available: it keeps
    its place in the queue)."""
    session = lock_session(session)
    if session.status != ChatStatus.QUEUED:
        return session
    agent = _pick(session, exclude=exclude)
    if agent is None and session.offered_to_id is None:
        return session  # still nobody: nothing changed, nothing to announce
    session.offered_to = agent
    session.offered_at = timezone.now() if agent else None
    session.save(update_fields=["offered_to", "offered_at", "updated_at"])
    realtime.push_queue_changed(session.team_id)
    return session


@transaction.atomic
def chats_reoffer(*, now: datetime.datetime | None = None) -> int:
    """Offers nobody accepted in time move to the next agent; waiting chats offered to nobody try again."""
    now = now or timezone.now()
    stale = ChatSession.objects.filter(status=ChatStatus.QUEUED).filter(
        offered_at__lt=now - datetime.timedelta(seconds=offer_seconds())) | ChatSession.objects.filter(
        status=ChatStatus.QUEUED, offered_to__isnull=True)
    moved = 0
    for session in stale.order_by("queued_at", "id")[:100]:
        before = session.offered_to_id
        routed = chat_route(session=session, exclude={before} if before else set())
        if routed.offered_to_id is None and before:  # nobody else: offer it to the same agent again
            routed = chat_route(session=session)
        moved += routed.offered_to_id != before
    return moved


def _require_handler(agent: User, session: ChatSession) -> None:
    if not chat_may_handle(user=agent, session=session):
        raise PermissionDenied(_("You cannot take chats of this team."))


@transaction.atomic
def chat_accept(*, session: ChatSession, agent: User) -> ChatSession:
    """The agent takes a waiting conversation: it becomes theirs, and so does its ticket."""
    session = lock_session(session)
    _require_handler(agent, session)
    if session.status != ChatStatus.QUEUED:
        raise Conflict(_("This chat is no longer waiting."), code="chat_not_waiting")
    capacity = ChatAgentSetting.objects.filter(agent=agent).values_list("max_chats", flat=True).first()
    capacity = capacity if capacity is not None else getattr(settings, "CHAT_DEFAULT_MAX_CHATS", 3)
    if ChatSession.objects.filter(agent=agent, status=ChatStatus.ACTIVE).count() >= capacity:
        raise Conflict(_("You already have %(count)d chats, your limit.") % {"count": capacity},
                       code="chat_capacity_reached")
    now = timezone.now()
    session.status, session.agent, session.accepted_at, session.offered_to = ChatStatus.ACTIVE, agent, now, None
    session.save(update_fields=["status", "agent", "accepted_at", "offered_to", "updated_at"])
    ticket_assign(ticket=session.ticket, actor=Actor.for_user(agent), team=session.team or session.ticket.team,
                  assignee=agent, reason="chat_accepted")
    push_state(session)
    realtime.push_queue_changed(session.team_id)
    return session


def _require_holder(agent: User, session: ChatSession) -> None:
    if session.status != ChatStatus.ACTIVE or (session.agent_id != agent.pk and not agent.is_admin):
        raise Conflict(_("Accept the chat first."), code="chat_not_yours")


def reply_allowed(agent: User, session: ChatSession) -> None:
    """May ``agent`` reply in this conversation now: the holder while it is active; after it ended (a ticket
    remains), any agent who may handle it (the reply goes by email)."""
    if session.status == ChatStatus.ENDED and session.ticket_id is None:
        raise Conflict(_("This conversation has ended."), code="chat_ended")
    if session.status != ChatStatus.ENDED:
        _require_holder(agent, session)
    else:
        _require_handler(agent, session)


@transaction.atomic
def chat_agent_reply(*, session: ChatSession | int, agent: User, text: str, client_id: str = "", upload=None,
                     locked: bool = False, visitor_here: bool | None = None) -> dict:
    """The agent's message: stored (a public reply on the ticket) before it is pushed. When the visitor has
    left and their email is known, the reply goes by email instead (the ticket's usual notification).
    ``upload``: a file sent from the workspace, checked and stored as a ticket attachment of the reply.
    ``locked``: ``session`` was read with its ticket under lock in this transaction (``lock_group``).
    ``visitor_here``: whether the visitor has the widget open, read by the caller before the transaction (None:
    read here)."""
    files = [IncomingFile.from_upload(upload)] if upload is not None else []
    for incoming in files:
        validate_file(incoming)  # a refused file leaves nothing behind
    text = clean_text(text, required=not files)
    if not locked:
        session = lock_with_ticket(session)  # what a reply needs
    reply_allowed(agent, session)
    client_id = str(client_id or "")[:64]
    external_id = resend_key(session.pk, client_id, agent=True)
    existing = sent_before(session, external_id)
    if existing is not None:
        return message_row(existing)
    if visitor_here is None:
        visitor_here = bool(realtime.present("visitor", [session.pk]))
    channel = Channel.CHAT if visitor_here or not session.email else Channel.EMAIL
    push = realtime.reserve_push(session.pk)
    message = message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text=text, channel=channel,
                                attachments=files, external_id=external_id, locked=True, metadata={"chat_session": session.pk, "chat_cid": client_id})
    row = message_row(message, files=None if files else [])
    push.update({"type": "message", "message": row})
    return row


@transaction.atomic
def chat_transfer(*, session: ChatSession, agent: User, to_agent: User | None = None,
                  to_team: Team | None = None) -> ChatSession:
    """Hand the conversation to another agent (it becomes theirs at once) or to another team's queue."""
    session = lock_session(session)
    _require_holder(agent, session)
    if (to_agent is None) == (to_team is None):
        raise ValidationError(_("Choose an agent or a team."), code="transfer_target")
    if to_agent is not None:
        if not to_agent.is_active or not to_agent.is_agent or to_agent.pk == session.agent_id:
            raise ValidationError(_("Choose another active agent."), code="transfer_agent_invalid")
        session.agent = to_agent
        session.save(update_fields=["agent", "updated_at"])
        ticket_assign(ticket=session.ticket, actor=Actor.for_user(agent), team=session.ticket.team,
                      assignee=to_agent, reason="chat_transferred")
    else:
        session.team, session.agent, session.status = to_team, None, ChatStatus.QUEUED
        session.queued_at, session.accepted_at = timezone.now(), None
        session.save(update_fields=["team", "agent", "status", "queued_at", "accepted_at", "updated_at"])
        ticket_assign(ticket=session.ticket, actor=Actor.for_user(agent), team=to_team, assignee=None,
                      reason="chat_transferred")
        chat_route(session=session, exclude={agent.pk})
        session.refresh_from_db()
    push_state(session)
    realtime.push_queue_changed(session.team_id)
    return session


@transaction.atomic
def chat_agent_end(*, session: ChatSession, agent: User) -> ChatSession:
    """The agent ends the chat: the ticket is solved (the visitor may then rate it and ask for the transcript)."""
    session = lock_session(session)
    _require_holder(agent, session)
    session.status, session.outcome, session.ended_at = ChatStatus.ENDED, ChatOutcome.ENDED_BY_AGENT, timezone.now()
    session.save(update_fields=["status", "outcome", "ended_at", "updated_at"])
    ticket = Ticket.objects.get(pk=session.ticket_id)
    if ticket.status == TicketStatus.NEW:
        ticket = ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=Actor.for_user(agent),
                                   reason="chat_ended")
    if ticket.can_transition_to(TicketStatus.SOLVED):
        ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=Actor.for_user(agent), reason="chat_ended",
                          enforce_solve_rules=False)
    session.ticket.refresh_from_db()
    push_state(session)
    realtime.push_queue_changed(session.team_id)
    return session


@transaction.atomic
def chat_capacity_set(*, actor: Actor, agent: User, max_chats: int) -> ChatAgentSetting:
    if actor.user is None or not (actor.user.is_admin or actor.user.pk == agent.pk):
        raise PermissionDenied(_("Only administrators set other agents' chat capacity."))
    if not 0 <= int(max_chats) <= 20:
        raise ValidationError(_("Between 0 and 20 chats."), code="invalid_capacity")
    stored = ChatAgentSetting.objects.select_for_update().filter(agent=agent).first()
    before = model_snapshot(stored) if stored is not None else {}
    setting, _created = ChatAgentSetting.objects.update_or_create(agent=agent, defaults={"max_chats": int(max_chats)})
    audit_settings_saved(actor=actor, target=setting, before=before)
    return setting

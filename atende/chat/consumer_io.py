"""The synchronous half of the chat consumers: parse one websocket action, check access, call one service,
and shape what goes back. Consumers run these on the database threads (``consumers.db``); messages and replies
go through the consumers' group writer (``chat.writer``) to ``messages_write``."""

from __future__ import annotations

from typing import Any

from atende.accounts.models import Team, User
from atende.chat import realtime, services
from atende.chat.answerer import article_summaries
from atende.chat.choices import ChatStatus, OfflineMode
from atende.chat.models import ChatSession, Widget
from atende.chat.selectors import (
    access_chat_for_agent,
    agents_online_count,
    chat_list_for_agent,
    session_messages,
)
from atende.chat.services import AgentReply, ChatWrite, VisitorMessage
from atende.chat.services._common import session_state
from atende.chat.tokens import visitor_id_new, visitor_token_make, visitor_token_read
from atende.core.asyncbridge import sends_together
from atende.core.events import pushes_together
from atende.core.exceptions import NotFound, ValidationError
from atende.core.throttle import throttle_or_raise


def visitor_hello(*, widget: Widget, token: str) -> dict[str, Any]:
    """Resume the conversation a token names, or issue a new token for a new visitor."""
    visitor_id = visitor_token_read(token, widget_key=widget.key)
    if visitor_id is None:
        visitor_id = visitor_id_new()
        token = visitor_token_make(widget_key=widget.key, visitor_id=visitor_id)
    session = ChatSession.objects.select_related("agent", "ticket").filter(widget=widget, visitor_id=visitor_id).first()
    online = agents_online_count(team_id=widget.team_id) > 0
    hello = {"visitor_id": visitor_id, "session_id": session.pk if session else None, "token": token,
             "online": online, "offline_mode": widget.offline_mode}
    if session is not None:
        hello |= {"state": session_state(session), "messages": session_messages(session)}
    return hello


def visitor_state(*, session_id: int) -> dict[str, Any]:
    return session_state(ChatSession.objects.select_related("agent", "ticket").get(pk=session_id))


def _session(widget: Widget, visitor_id: str) -> ChatSession:
    session = ChatSession.objects.filter(widget=widget, visitor_id=visitor_id).first()
    if session is None:
        raise NotFound("No conversation yet.")
    return session


def _text(content: dict, key: str) -> str:
    value = content.get(key, "")
    return value if isinstance(value, str) else ""


def visitor_run(*, widget: Widget, visitor_id: str, action: str, content: dict, client_ip: str,
                session_id: int | None = None) -> dict[str, Any]:
    """``session_id``: the visitor's conversation as the socket joined it (saves reading it again per message)."""
    if action == "suggest":
        throttle_or_raise("chat.suggest.ip", client_ip)
        articles = article_summaries(text=_text(content, "text")[:1000], language=_text(content, "language"))
        return {"send": [{"type": "suggestions", "articles": [a.__dict__ for a in articles]}]}
    if action == "opened":  # a suggestion opened from the pre-chat form: a pending deflection, as in the portal
        article_id = content.get("article_id")
        if isinstance(article_id, int):
            services.chat_suggestion_opened(widget=widget, visitor_id=visitor_id, article_id=article_id,
                                            query=_text(content, "text"))
        return {}
    if action in ("start", "offline"):
        fields = {"name": _text(content, "name"), "email": _text(content, "email"),
                  "question": _text(content, "question"), "language": _text(content, "language"),
                  "page_url": _text(content, "page_url")}
        if action == "offline":
            if widget.offline_mode != OfflineMode.FORM:
                raise ValidationError("This widget takes no offline requests.", code="offline_disabled")
            session = services.chat_offline_submit(widget=widget, visitor_id=visitor_id, client_ip=client_ip,
                                                   honeypot=_text(content, "website"), **fields)
        else:
            identity = content.get("identity") if isinstance(content.get("identity"), dict) else None
            session = services.chat_start(widget=widget, visitor_id=visitor_id, identity=identity,
                                          client_ip=client_ip, **fields)
        session = ChatSession.objects.select_related("agent", "ticket").get(pk=session.pk)
        state = session_state(session)
        return {"session_id": session.pk, "state": state, "send": [
            {"type": "history", "messages": session_messages(session)}, {"type": "state", **_public(state)}]}
    if action == "message":  # the consumers send messages to the group writer; this is one alone
        write = visitor_message(session_id=session_id or _session(widget, visitor_id).pk, content=content,
                                client_ip=client_ip)
        return {"send": [visitor_ack(content, _single(write))]}
    session = _session(widget, visitor_id)
    if action == "solved":
        article_id = content.get("article_id")
        services.chat_bot_solved(session=session, article_id=article_id if isinstance(article_id, int) else None)
    elif action == "human":
        services.chat_handover(session=session)
    elif action == "end":
        services.chat_visitor_end(session=session)
    elif action == "rate":
        services.chat_rate(session=session, rating=_text(content, "rating"), comment=_text(content, "comment"))
    elif action == "transcript":
        services.chat_transcript_send(session=session)
    else:
        raise ValidationError(f"Unknown action {action!r}.", code="unknown_action")
    return {"send": [{"type": "done", "action": action}]}


def visitor_message(*, session_id: int, content: dict, client_ip: str) -> VisitorMessage:
    return VisitorMessage(session_id=session_id, text=content.get("text"), client_id=_text(content, "cid"),
                          client_ip=client_ip)


def visitor_ack(content: dict, row: dict[str, Any]) -> dict[str, Any]:
    return {"type": "ack", "cid": _text(content, "cid"), "message": row}


def agent_reply(*, user: User, session_id: int, content: dict) -> AgentReply:
    return AgentReply(session_id=session_id, agent=user, text=content.get("text"), client_id=_text(content, "cid"))


def messages_write(*, writes: list[ChatWrite]) -> list[dict[str, Any] | Exception]:
    """A group of messages and replies in one transaction (``services.chat_messages_write``): each one's row,
    or the error that refused it. The group's pushes reach the server's loop together, after the commit: the
    messages to the conversations first, then the console's news of the group's ticket events in one push (one
    message per ticket and one to the queues' hub for the group, instead of one of each per message)."""
    with sends_together(), pushes_together():
        return services.chat_messages_write(writes=writes)


def _single(write: ChatWrite) -> dict[str, Any]:
    (outcome,) = messages_write(writes=[write])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _public(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "team_id"}


# Agents --------------------------------------------------------------------------------------------------------

def _row(session: ChatSession, user: User, position: int | None) -> dict[str, Any]:
    return {"id": session.pk, "status": session.status, "name": session.name or session.email or "Visitor",
            "question": session.question[:200], "queued_at": session.queued_at.isoformat() if session.queued_at else None,
            "position": position, "offered_to_me": session.offered_to_id == user.pk,
            "ticket": session.ticket.number if session.ticket_id else None, "widget": session.widget.name}


def agent_list(*, user: User) -> dict[str, Any]:
    rows = chat_list_for_agent(user=user)
    # The list holds every waiting chat of the teams it shows, in queue order (queued_at, id), so a chat's place
    # is its rank among its team's rows: one query for the list, not one count per row.
    ranks: dict[int | None, int] = {}
    waiting = []
    for session in rows:
        if session.status == ChatStatus.QUEUED and session.queued_at is not None:
            ranks[session.team_id] = ranks.get(session.team_id, 0) + 1
            waiting.append(_row(session, user, ranks[session.team_id]))
        elif session.status == ChatStatus.QUEUED:
            waiting.append(_row(session, user, None))
    return {"waiting": waiting,
            "mine": [_row(s, user, None) for s in rows if s.status == ChatStatus.ACTIVE]}


def agent_conversation(*, user: User, session_id: int) -> dict[str, Any]:
    session = access_chat_for_agent(user=user, session_id=session_id)
    history = []
    if session.customer_id:  # the customer's other requests, newest first
        history = [{"number": t.number, "subject": t.subject, "status": t.status}
                   for t in session.customer.requested_tickets.exclude(pk=session.ticket_id).order_by("-id")[:10]]
    return {"session_id": session.pk, "state": session_state(session), "messages": session_messages(session),
            "visitor": {"name": session.name, "email": session.email, "identified": session.identified,
                        "page_url": session.page_url, "language": session.language,
                        "online": bool(realtime.present("visitor", [session.pk]))},
            "history": history, "ticket_url": f"/console/tickets/{session.ticket.number}/" if session.ticket_id else "",
            "holder": session.agent_id == user.pk}


def agent_run(*, user: User, action: str, content: dict, session_id: int | None = None) -> dict[str, Any]:
    if action == "reoffer":
        services.chats_reoffer()
        return {}
    session = access_chat_for_agent(user=user, session_id=session_id, related=False)  # each service locks it
    if action == "accept":
        services.chat_accept(session=session, agent=user)
    elif action == "transfer":
        to_agent = to_team = None
        if content.get("agent_id"):
            to_agent = User.objects.filter(pk=_int(content["agent_id"]), is_active=True).first()
            if to_agent is None:
                raise ValidationError("Unknown agent.", code="transfer_agent_invalid")
        elif content.get("team_id"):
            to_team = Team.objects.filter(pk=_int(content["team_id"])).first()
            if to_team is None:
                raise ValidationError("Unknown team.", code="transfer_team_invalid")
        services.chat_transfer(session=session, agent=user, to_agent=to_agent, to_team=to_team)
    elif action == "end":
        services.chat_agent_end(session=session, agent=user)
    else:
        raise ValidationError(f"Unknown action {action!r}.", code="unknown_action")
    return {}


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


"""Reads for live chat: widgets by key, a visitor's conversation, queues, agents' availability, transcripts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from atende.accounts.choices import Availability, Role
from atende.accounts.models import User
from atende.chat import realtime
from atende.chat.choices import ChatStatus
from atende.chat.models import ChatAgentSetting, ChatSession, Widget
from atende.chat.tokens import visitor_token_read
from atende.core.exceptions import NotFound
from atende.tickets.choices import MessageKind
from atende.tickets.models import Attachment, Message


def widget_get_active(*, key: str) -> Widget:
    widget = Widget.objects.filter(key=str(key)[:40], is_active=True).select_related("team").first()
    if widget is None:
        raise NotFound("Chat widget not found.")
    return widget


def widget_for_demo() -> Widget | None:
    """The widget the demo page embeds: the first active one (the demo desk's)."""
    return Widget.objects.filter(is_active=True).order_by("id").first()


def widget_list_for_admin(*, user) -> QuerySet[Widget]:
    if not (user.is_authenticated and user.is_admin):
        return Widget.objects.none()
    return Widget.objects.select_related("team").order_by("name", "id")


def access_widget_for_admin(*, user, widget_id: int) -> Widget:
    widget = widget_list_for_admin(user=user).filter(pk=widget_id).first()
    if widget is None:
        raise NotFound("Chat widget not found.")
    return widget


def session_for_visitor(*, widget: Widget, token: str) -> ChatSession | None:
    """The conversation a signed visitor token opens (None: no valid token, or no conversation yet)."""
    visitor_id = visitor_token_read(token, widget_key=widget.key)
    if visitor_id is None:
        return None
    return ChatSession.objects.filter(widget=widget, visitor_id=visitor_id).select_related("agent", "ticket").first()


def agent_capacity(agent: User) -> int:
    setting = ChatAgentSetting.objects.filter(agent=agent).first()
    return setting.max_chats if setting else getattr(settings, "CHAT_DEFAULT_MAX_CHATS", 3)


def agents_available(*, team_id: int | None) -> list[tuple[User, int]]:
    """(agent, open chats) for agents who can take a chat now: online, connected to the console, under capacity,
    members of the team (any agent when the widget routes to no team); least loaded first."""
    agents = User.objects.filter(role__in=[Role.ADMIN, Role.AGENT], is_active=True, availability=Availability.ONLINE)
    if team_id:
        agents = agents.filter(teams__id=team_id)
    agents = list(agents.annotate(open_chats=Count("chats_handled", filter=Q(chats_handled__status=ChatStatus.ACTIVE)))
                  .select_related("chat_setting"))
    connected = realtime.present("agent", [a.pk for a in agents])
    default = getattr(settings, "CHAT_DEFAULT_MAX_CHATS", 3)
    rows = []
    for agent in agents:
        capacity = agent.chat_setting.max_chats if hasattr(agent, "chat_setting") else default
        if agent.pk in connected and agent.open_chats < capacity:
            rows.append((agent, agent.open_chats))
    return rows


def agents_online_count(*, team_id: int | None) -> int:
    """Agents of the team online in the console (full or not): decides between chat and the offline form."""
    agents = User.objects.filter(role__in=[Role.ADMIN, Role.AGENT], is_active=True, availability=Availability.ONLINE)
    if team_id:
        agents = agents.filter(teams__id=team_id)
    return len(realtime.present("agent", list(agents.values_list("pk", flat=True))))


def queue_position(session: ChatSession) -> int | None:
    if session.status != ChatStatus.QUEUED or session.queued_at is None:
        return None
    ahead = ChatSession.objects.filter(status=ChatStatus.QUEUED, team_id=session.team_id).filter(
        Q(queued_at__lt=session.queued_at) | Q(queued_at=session.queued_at, pk__lt=session.pk)).count()
    return ahead + 1


def chat_may_handle(*, user, session: ChatSession) -> bool:
    """Agents of the conversation's team (all agents when it has none), admins, and whoever holds it."""
    if not (user.is_authenticated and user.is_active and user.is_agent):
        return False
    if user.is_admin or session.agent_id == user.pk or session.team_id is None:
        return True
    return user.teams.filter(pk=session.team_id).exists()


def access_chat_for_agent(*, user, session_id: int, related: bool = True) -> ChatSession:
    """``related=False``: the conversation's own row only, for a service that reads it again under its lock (an
    agent's reply: the five-table read cost more than the rest of the access check)."""
    sessions = ChatSession.objects.select_related("widget", "ticket", "agent", "customer", "team") if related \
        else ChatSession.objects.all()
    session = sessions.filter(pk=session_id).first()
    if session is None or not chat_may_handle(user=user, session=session):
        raise NotFound("Chat not found.")
    return session


def chat_list_for_agent(*, user) -> list[ChatSession]:
    """Conversations waiting in the agent's teams and those the agent holds."""
    if not (user.is_authenticated and user.is_agent):
        return []
    waiting = Q(status=ChatStatus.QUEUED)
    if not user.is_admin:
        waiting &= Q(team__isnull=True) | Q(team__in=user.teams.all())
    mine = Q(status=ChatStatus.ACTIVE, agent=user)
    return list(ChatSession.objects.filter(waiting | mine).select_related("agent", "ticket", "widget")
                .order_by("queued_at", "id")[:200])


def session_messages(session: ChatSession) -> list[dict[str, Any]]:
    """The conversation as both sides see it: the bot's turns until the handover; after it, the ticket's public
    replies (the bot's turns were copied into the ticket, so the ticket holds the whole transcript)."""
    if not session.ticket_id:
        return [dict(turn) for turn in session.bot_turns]
    replies = (Message.objects.filter(ticket_id=session.ticket_id, kind=MessageKind.REPLY)
               .select_related("author").prefetch_related("attachments").order_by("created_at", "id"))
    return [message_row(message) for message in replies]


def message_row(message: Message, *, files: list | None = None) -> dict[str, Any]:
    """``files=[]``: the caller knows the message has none (a text message just written): no query for them."""
    kind = message.author_kind
    sender = "visitor" if kind == "customer" else "bot" if kind in ("system", "automation") else "agent"
    return {"id": f"m{message.pk}", "from": sender, "text": message.body_text,
            "author": message.author.first_name if sender == "agent" and message.author else "",
            "at": message.created_at.isoformat(), "cid": message.metadata.get("chat_cid", ""),
            "articles": message.metadata.get("chat_articles", []),
            "files": [{"id": a.pk, "name": a.filename, "type": a.content_type, "size": a.size,
                       "image": a.content_type in IMAGE_TYPES}
                      for a in (message.attachments.all() if files is None else files)]}


IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def attachment_for_visitor(*, widget: Widget, token: str, attachment_id: int) -> Attachment:
    """A file of the visitor's own conversation, for the holder of its visitor token: only public replies of
    the conversation's ticket; anything else is NotFound (whether it exists elsewhere is not told)."""
    session = session_for_visitor(widget=widget, token=token)
    attachment = (Attachment.objects.filter(pk=attachment_id, message__kind=MessageKind.REPLY).first()
                  if session is not None and session.ticket_id else None)
    if attachment is None or attachment.ticket_id != session.ticket_id:
        raise NotFound("Attachment not found.")
    return attachment


def transcript_text(session: ChatSession) -> str:
    lines = []
    for row in session_messages(session):
        who = {"visitor": session.name or "You", "bot": "Bot"}.get(row["from"], row["author"] or "Agent")
        lines.append(f"[{row['at'][:16].replace('T', ' ')}] {who}: {row['text']}")
        lines += [f"    {a['title']}: {settings.SITE_URL}{a['url']}" for a in row.get("articles") or []]
        lines += [f"    [{f['name']}]" for f in row.get("files") or []]  # the files stay behind access checks
    return "\n".join(lines)

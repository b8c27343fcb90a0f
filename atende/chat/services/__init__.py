"""Every write of live chat. Import from here: ``from atende.chat.services import chat_start``."""

from atende.chat.services.agents import (
    chat_accept,
    chat_agent_end,
    chat_agent_reply,
    chat_capacity_set,
    chat_route,
    chat_transfer,
    chats_reoffer,
)
from atende.chat.services.conversation import (
    chat_bot_solved,
    chat_handover,
    chat_offline_submit,
    chat_rate,
    chat_start,
    chat_suggestion_opened,
    chat_transcript_send,
    chat_visitor_attach,
    chat_visitor_end,
    chat_visitor_message,
    clean_text,
)
from atende.chat.services.messages import AgentReply, ChatWrite, VisitorMessage, chat_messages_write
from atende.chat.services.widgets import widget_save

__all__ = [
    "AgentReply",
    "ChatWrite",
    "VisitorMessage",
    "chat_accept",
    "chat_agent_end",
    "chat_agent_reply",
    "chat_bot_solved",
    "chat_capacity_set",
    "chat_handover",
    "chat_messages_write",
    "chat_offline_submit",
    "chat_rate",
    "chat_route",
    "chat_start",
    "chat_suggestion_opened",
    "chat_transcript_send",
    "chat_transfer",
    "chat_visitor_attach",
    "chat_visitor_end",
    "chat_visitor_message",
    "chats_reoffer",
    "clean_text",
    "widget_save",
]

"""The events subscribers on a batch of chat messages (most of a busy desk's events): the conversations' own
messages are screened out set-wise, so the batch costs the same few statements however many messages it holds."""

from atende.chat.services import chat_accept, chat_agent_reply, chat_handover, chat_visitor_message
from atende.chat.subscribers import chat_on_events
from atende.chat.tests.test_services import start
from atende.core.memo import batch_scope
from atende.core.outbox.dispatch import PAYLOAD_FIELDS, payload_of
from atende.email_channel.subscribers import notify_on_events
from atende.messaging.subscribers import messaging_on_events
from atende.outbound.models import Delivery
from atende.tickets.choices import TicketEventType
from atende.tickets.models import TicketEvent


def _chat_batch(widget, agents, online, settings, *, conversations: int, messages: int) -> list[dict]:
    settings.CHAT_DEFAULT_MAX_CHATS = 10
    online(*agents)
    first = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for n in range(conversations):
        session = chat_accept(session=chat_handover(session=start(widget, question=f"zzqx{n}")), agent=agents[0])
        for m in range(messages):
            chat_visitor_message(session=session.pk, text=f"Question {m}", client_id=f"v{m}")
            chat_agent_reply(session=session, agent=agents[0], text=f"Answer {m}", client_id=f"a{m}")
    rows = TicketEvent.objects.filter(id__gt=first, type=TicketEventType.REPLY_ADDED).order_by("id").values(
        *PAYLOAD_FIELDS)
    return [payload_of(row) for row in rows]


def test_a_batch_of_chat_messages_costs_the_same_statements_however_long(widget, agent, online, settings,
                                                                        django_assert_max_num_queries):
    small = _chat_batch(widget, [agent], online, settings, conversations=1, messages=1)
    large = _chat_batch(widget, [agent], online, settings, conversations=4, messages=6)
    assert len(large) >= 48  # and the bot's answers before the handovers
    notify_on_events(small)  # the site's settings row is made on first use
    for events in (small, large):
        with django_assert_max_num_queries(1):  # the workspace's replies were pushed when written
            chat_on_events(events)
        with django_assert_max_num_queries(2):  # no ticket has a messaging app's route
            messaging_on_events(events)
        # tickets, followers, users, messages, attachments, site settings, a savepoint: not every message of
        # the tickets, nor their mail, to thread mail that no chat message sends
        with batch_scope(), django_assert_max_num_queries(8):
            notify_on_events(events)
    assert not Delivery.objects.exists()  # nothing queued for anyone: the widget showed every message

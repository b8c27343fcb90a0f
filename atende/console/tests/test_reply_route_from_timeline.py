"""The ticket page learns where the customer last wrote from (and so whether WhatsApp's window has closed) from
the messages its timeline has read, when they hold the customer's last reply; otherwise it reads that reply."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atende.console.views.ticket import TIMELINE_LATEST
from atende.tickets.choices import MessageKind
from atende.tickets.models import Message
from atende.tickets.selectors import message_list_for_user, ticket_reply_route

WHATSAPP = {"reply_route": {"transport": "whatsapp", "address": "+5511912345678"}}
TELEGRAM = {"reply_route": {"transport": "telegram", "address": "12345"}}
SHAPES = {
    "whatsapp": ("customer", MessageKind.REPLY, WHATSAPP),
    "telegram": ("customer", MessageKind.REPLY, TELEGRAM),
    "email": ("customer", MessageKind.REPLY, {}),
    "odd metadata": ("customer", MessageKind.REPLY, ["not", "a", "dict"]),
    "agent reply": ("agent", MessageKind.REPLY, WHATSAPP),
    "note": ("agent", MessageKind.NOTE, {}),
}


def add(ticket, shape: str, at: dt.datetime, author) -> None:
    author_kind, kind, metadata = SHAPES[shape]
    Message.objects.create(ticket=ticket, kind=kind, author_kind=author_kind, metadata=metadata, created_at=at,
                           author=author if author_kind == "agent" else ticket.requester, body_text=shape)


@pytest.mark.parametrize("threads", range(6))
def test_the_route_read_from_the_newest_messages_is_the_one_the_query_finds(agent, team_ticket, threads):
    """Threads of every length around the page's window, each ending in every shape, some with equal times."""
    Message.objects.filter(ticket=team_ticket).delete()
    start = timezone.now() - dt.timedelta(days=3)
    shapes = list(SHAPES)
    for n, (first, last) in enumerate(itertools.product(shapes, shapes)):
        thread = [first] + ["note"] * (threads * 3) + [last]
        Message.objects.filter(ticket=team_ticket).delete()
        for i, shape in enumerate(thread):
            add(team_ticket, shape, start + dt.timedelta(minutes=i // 2 if n % 2 else i), agent)
        every = list(message_list_for_user(user=agent, ticket=team_ticket))
        expected = ticket_reply_route(team_ticket)
        for window in (1, 2, TIMELINE_LATEST, len(every)):
            newest = every[-window:]
            assert ticket_reply_route(team_ticket, newest=newest, complete=window >= len(every)) == expected


@pytest.mark.parametrize("notes_after", [0, TIMELINE_LATEST + 2])
def test_the_page_warns_of_a_closed_whatsapp_window_either_way(client, agent, team_ticket, notes_after):
    Message.objects.filter(ticket=team_ticket).delete()
    old = timezone.now() - dt.timedelta(days=2)
    add(team_ticket, "whatsapp", old, agent)
    for i in range(notes_after):
        add(team_ticket, "note", old + dt.timedelta(minutes=i + 1), agent)
    client.force_login(agent)
    url = reverse("console:ticket", args=[team_ticket.number])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(url).content.decode()
    assert "WhatsApp only accepts an approved template message now" in html
    read_again = [q for q in captured.captured_queries if "\"author_kind\" = 'customer'" in q["sql"]]
    assert len(read_again) == (1 if notes_after else 0)  # the last reply is read only when the page has not

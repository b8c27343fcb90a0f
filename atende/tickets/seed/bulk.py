"""``atende seed --tickets N``: many realistic tickets fast, by bulk inserts in batches (benchmarks use 1,000,000).

Rows are written directly (not through the services) because this is synthetic load, not user activity; each
ticket still gets its first message, replies, notes and the events its history implies, and the search index is
filled in the same batches.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Callable

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from atende.accounts.choices import Role
from atende.accounts.models import Team, User
from atende.tickets.choices import Channel, Level, MessageKind, TicketEventType, TicketStatus, TicketType
from atende.tickets.models import Category, Message, Tag, Ticket, TicketEvent, TicketSettings, TicketTag
from atende.tickets.seed import corpus

STATUS_WEIGHTS = [(TicketStatus.NEW, 8), (TicketStatus.OPEN, 17), (TicketStatus.PENDING, 8),
                  (TicketStatus.ON_HOLD, 3), (TicketStatus.SOLVED, 14), (TicketStatus.CLOSED, 50)]


def _reindex_hook() -> Callable[[list[int]], None] | None:
    try:
        from atende.tickets.search import reindex_tickets
    except ImportError:
        return None
    return reindex_tickets


def _ensure_people(rng: random.Random, customers_wanted: int) -> tuple[list[int], list[int], list[int], dict]:
    agents = list(User.objects.filter(role__in=[Role.AGENT, Role.ADMIN]).values_list("id", flat=True))
    if not agents:
        agents = [User.objects.create_user(f"bench-agent{i}@atende.test", "atende-agent", role=Role.AGENT,
                                           name=corpus.person_name(rng)).pk for i in range(20)]
    have = User.objects.filter(role=Role.CUSTOMER).count()
    if have < customers_wanted:
        start = User.objects.count()
        batch = [User(email=f"seed{start + i}.{rng.randint(0, 999)}@customers.example", name=corpus.person_name(rng),
                      role=Role.CUSTOMER, password="!") for i in range(customers_wanted - have)]
        User.objects.bulk_create(batch, batch_size=2000, ignore_conflicts=True)
    customers = list(User.objects.filter(role=Role.CUSTOMER).values_list("id", "organization_id"))
    teams = list(Team.objects.values_list("id", flat=True))
    categories = {c.pk: c.default_team_id for c in Category.objects.filter(parent__isnull=False)}
    return agents, customers, teams, categories


def seed_tickets(n: int, *, batch_size: int = 5000, seed: int = 42, days: int = 365,
                 progress: Callable[[int, float], None] | None = None) -> dict[str, float]:
    """Insert ``n`` tickets with 1–5 messages each and their events. Returns counts and rates."""
    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic():
        agents, customers, teams, categories = _ensure_people(rng, customers_wanted=max(200, min(10000, n // 10)))
    tag_ids = _ensure_tags()
    config = TicketSettings.load()
    reindex = _reindex_hook()
    now = timezone.now()
    next_id = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    category_ids = list(categories) or [None]
    totals = {"tickets": 0, "messages": 0, "events": 0}
    done = 0
    while done < n:
        size = min(batch_size, n - done)
        tickets, messages, events, ticket_tags = [], [], [], []
        for offset in range(size):
            tid = next_id + done + offset
            requester_id, org_id = rng.choice(customers)
            category_id = rng.choice(category_ids)
            key = rng.choice(list(corpus.SUBJECTS))
            lang, subject, body = corpus.ticket_text(rng, key, "Acme")
            created = now - datetime.timedelta(seconds=rng.uniform(0, days * 86400))
            status = rng.choices(statuses, weights)[0]
            urgency, impact = rng.choice(Level.values), rng.choice(Level.values)
            assignee = rng.choice(agents) if status != TicketStatus.NEW and rng.random() < 0.85 else None
            n_msgs = rng.randint(1, 5)
            at = created
            thread = []
            for m in range(n_msgs):
                from_customer = m % 2 == 0
                text = body if m == 0 else rng.choice((corpus.CUSTOMER_REPLIES if from_customer
                                                       else corpus.AGENT_REPLIES)[lang])
                kind = MessageKind.NOTE if (not from_customer and rng.random() < 0.15) else MessageKind.REPLY
                thread.append(Message(ticket_id=tid, kind=kind, author_id=requester_id if from_customer else assignee
                                      or agents[0], author_kind="customer" if from_customer else "agent",
                                      channel=Channel.EMAIL, body_text=text, created_at=at))
                at += datetime.timedelta(minutes=rng.randint(5, 2000))
            first_response = thread[1].created_at if n_msgs > 1 else None
            resolved = status in (TicketStatus.SOLVED, TicketStatus.CLOSED)
            ticket = Ticket(
                id=tid, number=tid, subject=subject, status=status, type=rng.choice(TicketType.values),
                channel=rng.choice(Channel.values), requester_id=requester_id, organization_id=org_id,
                team_id=categories.get(category_id) or (rng.choice(teams) if teams else None), assignee_id=assignee,
                category_id=category_id, urgency=urgency, impact=impact, priority=config.priority_for(urgency, impact),
                language="pt-br" if lang == "pt" else "en", created_at=created, updated_at=at,
                status_changed_at=at, first_response_at=first_response, last_customer_reply_at=created,
                last_agent_reply_at=first_response, solved_at=at if resolved else None,
                closed_at=at if status == TicketStatus.CLOSED else None,
                paused_since=at if status in (TicketStatus.PENDING, TicketStatus.ON_HOLD) else None,
                reply_token=f"{rng.getrandbits(64):016x}",
            )
            tickets.append(ticket)
            messages.extend(thread)
            events.append(TicketEvent(ticket_id=tid, type=TicketEventType.TICKET_CREATED, actor_kind="customer",
                                      actor_user_id=requester_id, created_at=created,
                                      data={"subject": subject, "channel": ticket.channel, "status": "new"}))
            if status != TicketStatus.NEW:
                events.append(TicketEvent(ticket_id=tid, type=TicketEventType.STATUS_CHANGED, actor_kind="agent",
                                          actor_user_id=assignee, created_at=at,
                                          data={"old": "new", "new": status, "reason": "seed"}))
            for tag_id in rng.sample(tag_ids, rng.choice((0, 0, 1, 1, 2))):
                ticket_tags.append(TicketTag(ticket_id=tid, tag_id=tag_id))
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets, batch_size=1000)
            Message.objects.bulk_create(messages, batch_size=1000)
            TicketEvent.objects.bulk_create(events, batch_size=1000)
            TicketTag.objects.bulk_create(ticket_tags, batch_size=1000)
            if reindex:
                reindex([t.id for t in tickets])
        done += size
        totals["tickets"] += len(tickets)
        totals["messages"] += len(messages)
        totals["events"] += len(events)
        if progress:
            progress(done, time.perf_counter() - started)
    _reset_sequences()
    elapsed = time.perf_counter() - started
    totals["seconds"] = round(elapsed, 2)
    totals["tickets_per_second"] = round(totals["tickets"] / elapsed, 1) if elapsed else 0.0
    totals["rows_per_second"] = round((totals["tickets"] + totals["messages"] + totals["events"]) / elapsed, 1)
    return totals


def _ensure_tags() -> list[int]:
    Tag.objects.bulk_create([Tag(name=t) for t in corpus.TAGS], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=corpus.TAGS).values_list("id", flat=True))


def _reset_sequences() -> None:
    """After inserts with explicit ids, move PostgreSQL's sequences past them (SQLite needs nothing)."""
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), [Ticket, Message, TicketEvent, TicketTag])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)

"""``atende seed --tickets N``: many realistic tickets fast, for benchmarks (they use up to 1,000,000).

Rows are written directly (not through the services) because this is synthetic load, not user activity; each
ticket still gets its first message, replies, notes and the events its history implies (created, assigned,
reply/note added, status changed), its tags, and the search index through ``tickets.search.reindex_tickets``;
other apps' ``demo.after_bulk_seed`` hooks run last (the reports rebuild their summary tables).

Why it is fast: rows are plain tuples (no model instances, no ORM compiler), written with ``executemany`` on the
raw SQLite connection or ``COPY`` on PostgreSQL, in large transactions; on SQLite the load runs with
``synchronous=OFF`` and foreign-key checks off (every id written comes from rows that exist); for large loads the
secondary indexes of the four big tables are dropped first and built once at the end, which is much cheaper than
updating them row by row in random order. The search index is filled in large chunks after the rows.
It assumes no other writer inserts tickets while it runs (ids are assigned here).
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from atende.accounts.choices import Role
from atende.accounts.models import Team, User
from atende.accounts.selectors import AGENTS_AND_TEAMS
from atende.core import generations
from atende.tickets.choices import Channel, Level, TicketEventType, TicketStatus, TicketType
from atende.tickets.models import Category, Message, Tag, Ticket, TicketEvent, TicketSettings, TicketTag
from atende.tickets.search import reindex_tickets
from atende.tickets.seed import corpus

STATUS_WEIGHTS = [(TicketStatus.NEW, 8), (TicketStatus.OPEN, 17), (TicketStatus.PENDING, 8),
                  (TicketStatus.ON_HOLD, 3), (TicketStatus.SOLVED, 14), (TicketStatus.CLOSED, 50)]
# Benchmarks read a customer with many tickets (every 10th, up to 500) and a ticket with a long thread: the seeder makes them.
HEAVY_REQUESTER_EMAIL = "key-account@customers.example"
HEAVY_REQUESTER_TICKETS = 500
LONG_THREAD_EVERY = 10_000  # every 10,000th ticket (and the first) has a 50-message thread
LONG_THREAD_MESSAGES = 50
DEFER_INDEXES_FROM = 50_000  # below this, dropping and rebuilding indexes costs more than it saves
REINDEX_CHUNK = 20_000
BIG_TABLES = (Ticket, Message, TicketEvent, TicketTag)
SEARCH_TABLES = ["ticket_search"]  # tickets.search's index table; its own indexes are built after it is filled


def _after_load_hooks() -> list[Callable[..., object]]:
    """Other apps' ``demo.after_bulk_seed(ticket_ids=...)`` (reports rebuilds its summary tables from the rows
    written here, which published no events), found through the app registry so this app imports none of them."""
    hooks = []
    for app in apps.get_app_configs():
        if app.name.startswith("atende.") and app.label != "tickets":
            if find_spec(f"{app.name}.demo") is None:  # this app has no demo data
                continue
            module = import_module(f"{app.name}.demo")
            if hasattr(module, "after_bulk_seed"):
                hooks.append(module.after_bulk_seed)
    return hooks


def _ensure_people(rng: random.Random, customers_wanted: int) -> tuple[list[int], list[tuple[int, int | None]],
                                                                        int, list[int], dict]:
    agents = list(User.objects.filter(role__in=[Role.AGENT, Role.ADMIN]).values_list("id", flat=True))
    if not agents:
        password = make_password("atende-agent")  # hashed once: the hasher is slow on purpose
        User.objects.bulk_create([User(email=f"bench-agent{i}@atende.test", password=password, role=Role.AGENT,
                                       name=corpus.person_name(rng)) for i in range(20)], ignore_conflicts=True)
        generations.bump(AGENTS_AND_TEAMS)
        agents = list(User.objects.filter(role=Role.AGENT).values_list("id", flat=True))
    have = User.objects.filter(role=Role.CUSTOMER).count()
    if have < customers_wanted:
        start = User.objects.count()
        batch = [User(email=f"seed{start + i}.{rng.randint(0, 999)}@customers.example", name=corpus.person_name(rng),
                      role=Role.CUSTOMER, password="!") for i in range(customers_wanted - have)]
        User.objects.bulk_create(batch, batch_size=2000, ignore_conflicts=True)
    heavy, _ = User.objects.get_or_create(email=HEAVY_REQUESTER_EMAIL, defaults={
        "name": "Key Account", "role": Role.CUSTOMER, "password": "!"})
    customers = list(User.objects.filter(role=Role.CUSTOMER).exclude(pk=heavy.pk)
                     .values_list("id", "organization_id"))
    teams = list(Team.objects.values_list("id", flat=True))
    categories = {c.pk: c.default_team_id for c in Category.objects.filter(parent__isnull=False)}
    return agents, customers, heavy.pk, teams, categories


class _Table:
    """Column order and per-column defaults of one model, so rows can be plain tuples.

    ``given`` are the columns the generator fills, in order; every other concrete column gets its model default
    (prepared for the database once), so a field added later with a default needs no change here."""

    def __init__(self, model: type[models.Model], given: list[str], fixed: dict | None = None):
        self.model = model
        fixed = fixed or {}
        self.table = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in given if c not in fields]
        if unknown:
            raise ValueError(f"{self.table}: no columns {unknown}")
        rest = [f for c, f in fields.items() if c not in given and not f.primary_key]
        self.columns = [*given, *(f.column for f in rest)]
        self.defaults = tuple(fixed[f.column] if f.column in fixed else self._default(f) for f in rest)

    @staticmethod
    def _default(field: models.Field):
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return json.dumps(value)
        if isinstance(value, datetime.datetime):
            return _db_datetime(value)
        return value


def _db_datetime(value: datetime.datetime):
    """SQLite stores Django datetimes as naive UTC text; PostgreSQL takes aware datetimes."""
    if connection.vendor == "sqlite":
        return str(value.astimezone(datetime.UTC).replace(tzinfo=None))
    return value


def _write(table: _Table, rows: list[tuple]) -> None:
    if not rows:
        return
    defaults = table.defaults
    full = [row + defaults for row in rows] if defaults else rows
    cols = ", ".join(connection.ops.quote_name(c) for c in table.columns)
    raw = connection.connection
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {connection.ops.quote_name(table.table)} ({cols}) FROM STDIN"
                                                 ) as copy:
            for row in full:
                copy.write_row(row)
        return
    marks = ", ".join("?" if connection.vendor == "sqlite" else "%s" for _ in table.columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {connection.ops.quote_name(table.table)} ({cols}) VALUES ({marks})", full)
    finally:
        cursor.close()


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index on ``tables`` that no constraint relies on.

    Read from the database rather than the models, so indexes other apps add in migrations (search, console)
    are rebuilt too, from their exact definitions."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join("%s" for _ in tables)
            cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           f"AND sql NOT LIKE 'CREATE UNIQUE%%' AND tbl_name IN ({marks})", tables)
            return list(cursor.fetchall())
        if connection.vendor == "postgresql":
            cursor.execute("""
                SELECT i.indexname, i.indexdef FROM pg_indexes i
                JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = i.schemaname::regnamespace
                JOIN pg_index x ON x.indexrelid = c.oid
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) AND NOT x.indisunique
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)""", [tables])
            return list(cursor.fetchall())
    return []


def _drop_indexes(tables: list[str]) -> list[tuple[str, str]]:
    dropped = _secondary_indexes(tables)
    with connection.cursor() as cursor:
        for name, _sql in dropped:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return dropped


def _create_indexes(dropped: list[tuple[str, str]]) -> None:
    with connection.cursor() as cursor:
        if dropped and connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, sql in dropped:
            cursor.execute(sql)


@contextmanager
def _loading_mode() -> Iterator[None]:
    """Skip per-row durability and foreign-key checks while loading (every id written exists); restore after."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
        elif connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:  # skips the per-row foreign-key triggers; needs a superuser
                cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
            elif connection.vendor == "postgresql":
                cursor.execute("RESET session_replication_role")
                cursor.execute("RESET synchronous_commit")


class _Generator:
    """Turns a random stream into ticket, message, event and tag rows (tuples in ``_Table`` column order)."""

    TICKET_COLS = ["id", "number", "subject", "status", "type", "channel", "requester_id", "organization_id", "team_id",
                   "assignee_id", "category_id", "urgency", "impact", "priority", "language", "created_at",
                   "updated_at", "status_changed_at", "first_response_at", "last_customer_reply_at",
                   "last_agent_reply_at", "solved_at", "closed_at", "paused_since", "reply_token"]
    MESSAGE_COLS = ["id", "ticket_id", "kind", "author_id", "author_kind", "channel", "body_text", "created_at"]
    EVENT_COLS = ["ticket_id", "type", "actor_user_id", "actor_kind", "data", "created_at"]
    TAG_COLS = ["ticket_id", "tag_id"]

    def __init__(self, rng: random.Random, *, agents, customers, heavy_id, teams, categories, tag_ids, days: int):
        self.rng = rng
        self.agents, self.customers, self.heavy_id = agents, customers, heavy_id
        self.teams, self.categories, self.tag_ids = teams, categories, tag_ids
        self.category_ids = list(categories) or [None]
        self.subject_keys = list(corpus.SUBJECTS)
        self.statuses = [s.value for s, _ in STATUS_WEIGHTS]
        self.cum_weights = []
        acc = 0
        for _, w in STATUS_WEIGHTS:
            acc += w
            self.cum_weights.append(acc)
        config = TicketSettings.load()
        self.priority = {(u, i): config.priority_for(u, i) for u in Level.values for i in Level.values}
        self.levels = list(Level.values)
        self.types = list(TicketType.values)
        self.channels = list(Channel.values)
        self.now = timezone.now().timestamp()
        self.span = days * 86400
        self.sqlite = connection.vendor == "sqlite"
        self.heavy_left = 0

    def ts(self, seconds: float):
        if self.sqlite:  # the text Django's SQLite backend writes (naive UTC, whole seconds here)
            return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
        return datetime.datetime.fromtimestamp(int(seconds), datetime.UTC)

    def ticket(self, tid: int, index: int, next_message_id: int, out: dict[str, list]) -> int:
        """Append one ticket's rows to ``out``; returns how many messages it used."""
        rng, ts = self.rng, self.ts
        if self.heavy_left and index % 10 == 7:
            self.heavy_left -= 1
            requester_id, org_id = self.heavy_id, None
        else:
            requester_id, org_id = rng.choice(self.customers)
        category_id = rng.choice(self.category_ids)
        lang, subject, body = corpus.ticket_text(rng, rng.choice(self.subject_keys), "Acme")
        if index % 97 == 13:  # an order number: the rare words searches look for
            body += f" {'Order number' if lang == 'en' else 'Pedido número'} {rng.randint(1_000_000, 9_999_999)}."
        created = self.now - rng.random() * self.span
        status = rng.choices(self.statuses, cum_weights=self.cum_weights)[0]
        urgency, impact = rng.choice(self.levels), rng.choice(self.levels)
        assignee = rng.choice(self.agents) if status != "new" and rng.random() < 0.85 else None
        n_msgs = LONG_THREAD_MESSAGES if index % LONG_THREAD_EVERY == 0 else rng.randint(1, 5)
        channel = rng.choice(self.channels)
        messages, events = out["messages"], out["events"]
        created_ts = ts(created)
        events.append((tid, TicketEventType.TICKET_CREATED.value, requester_id, "customer", json.dumps(
            {"subject": subject, "channel": channel, "status": "new", "message_id": next_message_id}), created_ts))
        at = created
        first_response = None
        replies = corpus.CUSTOMER_REPLIES[lang], corpus.AGENT_REPLIES[lang]
        agent_id = assignee or self.agents[0]
        for m in range(n_msgs):
            from_customer = m % 2 == 0
            kind = "reply"
            if m == 0:
                text = body
            else:
                text = rng.choice(replies[0] if from_customer else replies[1])
                if not from_customer and rng.random() < 0.15:
                    kind, text = "note", rng.choice(corpus.NOTES[lang])
            mid = next_message_id + m
            at_ts = ts(at)
            author, author_kind = (requester_id, "customer") if from_customer else (agent_id, "agent")
            messages.append((mid, tid, kind, author, author_kind, "email", text, at_ts))
            if m:
                if kind == "note":
                    events.append((tid, TicketEventType.NOTE_ADDED.value, author, "agent",
                                   f'{{"message_id": {mid}, "mentions": [], "attachments": []}}', at_ts))
                else:
                    if first_response is None and not from_customer:
                        first_response = at_ts
                    events.append((tid, TicketEventType.REPLY_ADDED.value, author, author_kind,
                                   f'{{"message_id": {mid}, "author_kind": "{author_kind}", "author_id": {author}, '
                                   f'"channel": "email", "attachments": []}}', at_ts))
            at += rng.randint(300, 120_000)
        last = ts(at)
        if assignee:
            events.append((tid, TicketEventType.ASSIGNEE_CHANGED.value, None, "system",
                           f'{{"old": null, "new": {{"id": {assignee}}}, "reason": "seed"}}', created_ts))
        if status != "new":
            events.append((tid, TicketEventType.STATUS_CHANGED.value, assignee, "agent",
                           f'{{"old": "new", "new": "{status}", "reason": "seed"}}', last))
        resolved = status in ("solved", "closed")
        team_id = self.categories.get(category_id) or (rng.choice(self.teams) if self.teams else None)
        out["tickets"].append((
            tid, tid, subject, status, rng.choice(self.types), channel, requester_id, org_id, team_id, assignee,
            category_id, urgency, impact, self.priority[(urgency, impact)], "pt-br" if lang == "pt" else "en",
            created_ts, last, last, first_response, created_ts, first_response, last if resolved else None,
            last if status == "closed" else None, last if status in ("pending", "on_hold") else None,
            f"{rng.getrandbits(64):016x}"))
        for tag_id in rng.sample(self.tag_ids, rng.choice((0, 0, 1, 1, 2))):
            out["tags"].append((tid, tag_id))
        return n_msgs


def seed_tickets(n: int, *, batch_size: int = 20_000, seed: int = 42, days: int = 365,
                 defer_indexes: bool | None = None,
                 progress: Callable[[int, float], None] | None = None) -> dict[str, float]:
    """Insert ``n`` tickets with 1–5 messages each (a few with 50), their events and tags; index them for search.

    Returns counts, seconds and rates. ``defer_indexes`` (default: when ``n`` ≥ 50,000) drops the big tables'
    secondary indexes during the load and rebuilds them at the end."""
    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic():
        agents, customers, heavy_id, teams, categories = _ensure_people(
            rng, customers_wanted=max(200, min(10000, n // 10)))
        tag_ids = _ensure_tags()
    generator = _Generator(rng, agents=agents, customers=customers, heavy_id=heavy_id, teams=teams,
                           categories=categories, tag_ids=tag_ids, days=days)
    generator.heavy_left = max(0, min(HEAVY_REQUESTER_TICKETS, n // 10)
                               - Ticket.objects.filter(requester_id=heavy_id).count())
    tables = {"tickets": _Table(Ticket, _Generator.TICKET_COLS), "messages": _Table(Message, _Generator.MESSAGE_COLS),
              "events": _Table(TicketEvent, _Generator.EVENT_COLS, fixed={"backfill": True}),
              "tags": _Table(TicketTag, _Generator.TAG_COLS)}
    first_id = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    next_message_id = (Message.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    if defer_indexes is None:
        defer_indexes = n >= DEFER_INDEXES_FROM and n >= Ticket.objects.count()
    totals = {"tickets": 0, "messages": 0, "events": 0, "tags": 0}
    timings = {"generate": 0.0, "write": 0.0, "indexes": 0.0, "search_index": 0.0, "hooks": 0.0}
    connection.ensure_connection()
    dropped = _drop_indexes([m._meta.db_table for m in BIG_TABLES]) if defer_indexes else []
    search_dropped = _drop_indexes(SEARCH_TABLES) if defer_indexes else []
    try:
        with _loading_mode():
            done = 0
            while done < n:
                size = min(batch_size, n - done)
                t0 = time.perf_counter()
                out: dict[str, list] = {"tickets": [], "messages": [], "events": [], "tags": []}
                for offset in range(size):
                    next_message_id += generator.ticket(first_id + done + offset, done + offset, next_message_id, out)
                t1 = time.perf_counter()
                with transaction.atomic():
                    for key in ("tickets", "messages", "events", "tags"):
                        _write(tables[key], out[key])
                timings["generate"] += t1 - t0
                timings["write"] += time.perf_counter() - t1
                done += size
                for key in totals:
                    totals[key] += len(out[key])
                if progress:
                    progress(done, time.perf_counter() - started)
    finally:
        t0 = time.perf_counter()
        _create_indexes(dropped)  # before the search index: it reads messages by ticket
        _analyze([m._meta.db_table for m in BIG_TABLES])
        timings["indexes"] = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            for start in range(first_id, first_id + totals["tickets"], REINDEX_CHUNK):
                with transaction.atomic():
                    reindex_tickets(list(range(start, min(start + REINDEX_CHUNK, first_id + totals["tickets"]))))
        finally:
            _create_indexes(search_dropped)
            _analyze(SEARCH_TABLES)
            timings["search_index"] = time.perf_counter() - t0
            _after_load()
    t0 = time.perf_counter()
    for hook in _after_load_hooks():
        hook(ticket_ids=range(first_id, first_id + totals["tickets"]))
    timings["hooks"] = time.perf_counter() - t0
    elapsed = time.perf_counter() - started
    result: dict[str, float] = dict(totals)
    result.update({f"{k}_seconds": round(v, 2) for k, v in timings.items()})
    result["indexes_deferred"] = defer_indexes
    result["seconds"] = round(elapsed, 2)
    result["tickets_per_second"] = round(totals["tickets"] / elapsed, 1) if elapsed else 0.0
    result["rows_per_second"] = round(sum(totals.values()) / elapsed, 1) if elapsed else 0.0
    return result


def _ensure_tags() -> list[int]:
    Tag.objects.bulk_create([Tag(name=t) for t in corpus.TAGS], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=corpus.TAGS).values_list("id", flat=True))


def _analyze(tables: list[str]) -> None:
    """Fresh planner statistics (PostgreSQL) so the search reindex and the first pages get good plans."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for table in tables:
            if table in existing:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _after_load() -> None:
    """PostgreSQL: move sequences past the explicit ids, then what autovacuum would do after a bulk load (where it
    is off, nothing else would): ``VACUUM ANALYZE`` sets the visibility map that index-only scans need and gives
    every table statistics (the new customers too: without them the planner took 10,000 users for a few
    hundred). SQLite: let it gather the statistics it lacks."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in connection.ops.sequence_reset_sql(no_style(), list(BIG_TABLES)):
                cursor.execute(sql)
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")

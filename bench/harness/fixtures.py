"""Preparing the database (create, migrate, demo, bulk seed) and finding what the reads need in it.

The harness process itself sets Django up with the bench settings (same database as the server) to look
things up and to call services directly; everything user-facing is measured over HTTP."""

from __future__ import annotations

import os
import re
import shutil
import time

import psycopg

from harness.common import Config, Skip, atende, log

AGENT_LOGINS = [("agent@atende.test", "atende-agent"), ("bench-agent0@atende.test", "atende-agent")]
COMMON_WORD = "cache"  # in one of the three body templates of each language: about a third of the tickets
PHRASE = '"sem sucesso"'  # Portuguese body template: about a sixth of the tickets
NO_HIT_WORD = "xylophonic"  # never generated (the peer searches the same word)
SAVED_VIEW_NAME = "Bench: urgent and high in a team, active"


def _pg_admin(cfg: Config):
    url = cfg.database_url.rsplit("/", 1)[0] + "/postgres"
    return psycopg.connect(url.replace("postgresql://", "postgres://", 1), autocommit=True)


def reset_database(cfg: Config) -> None:
    if cfg.db == "postgresql":
        if not (cfg.pg_name.startswith(("bench_", "atende_bench_")) or cfg.pg_name.endswith("_bench")):
            raise SystemExit(f"refusing to drop {cfg.pg_name!r}: benchmark databases are named bench_*, "
                             "atende_bench_* or *_bench")
        with _pg_admin(cfg) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{cfg.pg_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{cfg.pg_name}"')
    else:
        path = cfg.database_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    shutil.rmtree(cfg.var_dir / "state", ignore_errors=True)
    (cfg.var_dir / "state").mkdir(parents=True, exist_ok=True)


def ticket_count(cfg: Config) -> int | None:
    """Tickets in the benchmark database, or None when it does not exist or is not migrated."""
    try:
        if cfg.db == "postgresql":
            with psycopg.connect(cfg.database_url) as conn:
                return conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        import sqlite3

        path = cfg.database_url.removeprefix("sqlite:///")
        if not os.path.exists(path):
            return None
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
    except (psycopg.Error, Exception):  # noqa: BLE001 - any failure means "not usable, rebuild"
        return None


_SEED_LINE = re.compile(r"seed: ([\d,]+) tickets, ([\d,]+) messages, ([\d,]+) events in ([\d.]+)s")


def prepare(cfg: Config) -> dict:
    """A database with exactly ``cfg.tickets`` tickets: the demo help desk, then the bulk seeder.
    With BENCH_REUSE=1 an existing database of the right size is kept (no seeding figures then)."""
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    have = ticket_count(cfg)
    if cfg.reuse and have is not None and have >= cfg.tickets:
        log(f"reusing the {cfg.db} database with {have:,} tickets")
        atende(cfg, "migrate", "--noinput", "-v", "0")
        return {"reused": True, "tickets_in_db": have}
    log(f"creating the {cfg.db} database for {cfg.tickets:,} tickets")
    reset_database(cfg)
    t0 = time.perf_counter()
    atende(cfg, "migrate", "--noinput", "-v", "0")
    migrate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    notes = []
    try:
        atende(cfg, "seed", timeout=1800)
    except RuntimeError as exc:  # the bulk seeder makes its own agents when the demo cannot load
        notes.append(f"demo data failed to load, bulk data only: {str(exc).splitlines()[0]}")
    demo_s = time.perf_counter() - t0
    have = ticket_count(cfg) or 0
    wanted = max(0, cfg.tickets - have)
    log(f"seeding {wanted:,} tickets: atende seed --tickets {wanted}")
    t0 = time.perf_counter()
    proc = atende(cfg, "seed", "--tickets", str(wanted), "--quiet", timeout=6 * 3600)
    wall = time.perf_counter() - t0
    out = proc.stdout.decode()
    match = _SEED_LINE.search(out)
    seed = {"command": f"atende seed --tickets {wanted}", "tickets": wanted, "wall_seconds": round(wall, 2),
            "tickets_per_second": round(wanted / wall, 1) if wall else None, "output": out.strip()[-400:]}
    if match:
        tickets, messages, events, seconds = (float(g.replace(",", "")) for g in match.groups())
        seed.update({"messages": int(messages), "events": int(events), "seconds": seconds,
                     "rows_per_second": round((tickets + messages + events) / wall, 1)})
    log(f"  seeded in {wall:.1f} s = {seed['tickets_per_second']:,} tickets/s (process wall time)")
    return {"reused": False, "migrate_seconds": round(migrate_s, 2), "demo_seconds": round(demo_s, 2),
            "seed": seed, "notes": notes, "tickets_in_db": ticket_count(cfg)}


def setup_django(cfg: Config) -> None:
    os.environ.update(cfg.env())
    import django

    django.setup()


def targets(cfg: Config) -> dict:
    """What the reads open: the agent to log in as, the long thread, the busy customer, search words."""
    from django.db.models import Count, Max, Min

    from atende.accounts.models import User
    from atende.tickets.models import Message, Ticket
    from atende.tickets.seed import bulk

    found: dict = {}
    for email, password in AGENT_LOGINS:
        user = User.objects.filter(email=email, is_active=True).first()
        if user is not None and user.check_password(password):
            found.update(agent_email=email, agent_password=password, agent_id=user.pk)
            break
    else:
        raise RuntimeError("no agent to log in as (neither the demo agent nor the bulk seeder's)")
    bounds = Ticket.objects.aggregate(lo=Min("id"), hi=Max("id"))
    found["ticket_id_range"] = [bounds["lo"], bounds["hi"]]
    long_thread = (Message.objects.filter(ticket_id__lte=bounds["lo"] + 20_000).values("ticket_id")
                   .annotate(n=Count("id")).order_by("-n").first())
    ticket = Ticket.objects.get(pk=long_thread["ticket_id"])
    found.update(long_thread_number=ticket.number, long_thread_messages=long_thread["n"])
    heavy = User.objects.filter(email=bulk.HEAVY_REQUESTER_EMAIL).first()
    if heavy is None:
        heavy = User.objects.get(pk=Ticket.objects.values("requester").annotate(n=Count("id")).order_by("-n")
                                 .first()["requester"])
    found.update(customer_id=heavy.pk, customer_tickets=Ticket.objects.filter(requester=heavy).count())
    order = (Message.objects.filter(body_text__contains="Order number").order_by("id")
             .values_list("body_text", flat=True).first())
    number = re.search(r"Order number (\d{7})", order or "")
    found["rare_word"] = number.group(1) if number else "Globex"
    found.update(common_word=COMMON_WORD, phrase=PHRASE, no_hit_word=NO_HIT_WORD)
    log(f"targets: agent {found['agent_email']}, ticket #{found['long_thread_number']} "
        f"({found['long_thread_messages']} messages), customer {found['customer_id']} "
        f"({found['customer_tickets']} tickets), rare word {found['rare_word']}")
    return found


def saved_view(cfg: Config, agent_id: int) -> tuple[int, dict]:
    """A saved view with three filters (active, one team, high or urgent), created through the console's service."""
    try:
        from atende.console.models import SavedView
        from atende.console.services import saved_view_create
    except ImportError as exc:
        raise Skip(f"saved views do not exist yet ({exc})")
    from atende.accounts.models import Team, User
    from atende.tickets.filters import TicketFilters
    from atende.tickets.models import Ticket

    agent = User.objects.get(pk=agent_id)
    team_id = (Ticket.objects.filter(team__isnull=False).values_list("team_id", flat=True).first()
               or Team.objects.values_list("id", flat=True).first())
    filters = {"status": ["active"], "team": [team_id], "priority": ["high", "urgent"]}
    view = SavedView.objects.filter(owner=agent, name=SAVED_VIEW_NAME).first()
    if view is None:
        view = saved_view_create(user=agent, name=SAVED_VIEW_NAME, filters=TicketFilters.from_dict(filters))
    return view.pk, filters


def api_token(cfg: Config, email: str) -> str:
    proc = atende(cfg, "api-token", "create", email, "--scope", "write", "--name", "bench")
    secret = proc.stdout.decode().strip().splitlines()[-1].strip()
    if not secret:
        raise Skip("`atende api-token create` printed no token")
    return secret

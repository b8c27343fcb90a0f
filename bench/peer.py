#!/usr/bin/env python
"""``make bench-peer``: Atende and django-helpdesk on this machine, in one go, at the same size and database,
then the ratio for each operation (peer time / Atende time; above 1 means Atende is faster).

    BENCH_TICKETS=100000 make bench-peer
    BENCH_TICKETS=100000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_atende make bench-peer

The peer is measured by its own script (../shared/bench/peer-django-helpdesk/run.sh, which installs
django-helpdesk in its own virtual environment under $PEER_WORKDIR); nothing of it is copied here.
Extra options: BENCH_PEER_DIR (where run.sh is), BENCH_PEER_REQUESTS (timed requests per peer operation,
default 50; the peer stops slow operations after 150 s), BENCH_PEER_SKIP_OPS (the peer's operations to skip,
comma-separated, e.g. api_tickets_list), BENCH_ATENDE_RESULTS / BENCH_PEER_RESULTS (reuse a
result file instead of running that side again), plus every ``make bench`` option for the Atende side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
from harness.common import REPO, Config, log, machine, now_iso  # noqa: E402
from harness.report import markdown, write_json  # noqa: E402

PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR", REPO.parent / "shared" / "bench" / "peer-django-helpdesk"))
PEER_PG_NAME = "bench_peer_helpdesk"

# (operation, the peer's latency key, Atende's read). Closest equivalents; the notes say where they differ.
PAIRS = [
    ("ticket list, default view", "list_default.html+json", "all open: page + sidebar counts",
     "peer: list HTML + its datatables JSON; Atende: all-open queue page + the sidebar counts it loads"),
    ("ticket list, filtered and sorted", "list_queue_status_by_date.html+json", "saved view (3 filters): first page",
     "peer: queue + status, by date; Atende: saved view active + team + priority, by update"),
    ("keyword search, frequent word", "search_word.html+json", "search: common word",
     "peer: 'printer' (~5% of tickets); Atende: 'cache' (~33% of tickets)"),
    ("keyword search, no hits", "search_nomatch.html+json", "search: no hits", "both: 'xylophonic'"),
    ("ticket page", "ticket_view", "ticket page, typical (random tickets)", "random tickets, 1–5 messages"),
    ("dashboard", "dashboard", "reports dashboard, last 30 days", ""),
    ("REST API ticket list, first page", "api_tickets_list", "REST API: ticket list, first page", ""),
]
LIST_AND_SEARCH = {"ticket list, default view", "ticket list, filtered and sorted", "keyword search, frequent word",
                   "keyword search, no hits"}


def run_peer(cfg: Config) -> dict:
    if reuse := os.environ.get("BENCH_PEER_RESULTS"):
        return json.loads(Path(reuse).read_text())
    workdir = Path(os.environ.get("PEER_WORKDIR", "/tmp/atende-peer"))
    db = "postgres" if cfg.db == "postgresql" else "sqlite"
    cmd = ["bash", str(PEER_DIR / "run.sh"), "--tickets", str(cfg.tickets), "--db", db,
           "--requests", os.environ.get("BENCH_PEER_REQUESTS", "50"), "--port", str(cfg.port + 1)]
    if db == "postgres":
        cmd += ["--pg-name", PEER_PG_NAME]
    if skip := os.environ.get("BENCH_PEER_SKIP_OPS"):  # e.g. api_tickets_list: over a minute per request on PostgreSQL
        cmd += ["--skip-ops", skip]
    env = dict(os.environ, PEER_WORKDIR=str(workdir), DH_PG_NAME=PEER_PG_NAME)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYTHONPATH", None)
    log(f"peer: {' '.join(cmd[1:])}")
    subprocess.run(cmd, env=env, check=True, timeout=6 * 3600)
    return json.loads((workdir / f"results-{db}-{cfg.tickets}.json").read_text())


def compare(atende: dict, peer: dict) -> list[dict]:
    rows = []
    for op, peer_key, atende_key, note in PAIRS:
        p = peer.get("latency", {}).get(peer_key)
        a = atende.get("reads", {}).get(atende_key)
        row = {"operation": op, "peer_key": peer_key, "atende_key": atende_key, "note": note}
        if p and a:
            ac, asv = a["client_ms"], a["server_ms"]
            row.update(peer_p50=p["p50_ms"], peer_p95=p["p95_ms"], peer_n=p["n"], atende_p50=ac["p50"],
                       atende_p95=ac["p95"], atende_server_p95=asv["p95"], atende_n=ac["n"],
                       ratio_p50=round(p["p50_ms"] / ac["p50"], 1) if ac["p50"] else None,
                       ratio_p95=round(p["p95_ms"] / ac["p95"], 1) if ac["p95"] else None)
        else:
            row["missing"] = "peer" if not p else "atende"
        rows.append(row)
    peer_create = peer.get("http_seed", {}).get("public_form_conc4") or {}
    atende_create = next((w for k, w in atende.get("writes", {}).items() if k.startswith("create: REST API")), None)
    if peer_create and atende_create:
        rows.append({"operation": "ticket creation over HTTP (tickets/s)", "throughput": True,
                     "peer_rate": peer_create.get("tickets_per_s"), "atende_rate": atende_create["tickets_per_second"],
                     "ratio": round(atende_create["tickets_per_second"] / peer_create["tickets_per_s"], 1)
                     if peer_create.get("tickets_per_s") else None,
                     "note": f"peer: public form, 4 clients; Atende: REST API, {atende_create['clients']} clients "
                             f"(ratio = Atende / peer)"})
    return rows


def comparison_markdown(result: dict) -> str:
    lines = [f"### Atende vs django-helpdesk {result['peer_version']}: {result['db']}, {result['tickets']:,} tickets "
             f"({result['started'][:16]})", "",
             "| operation | peer p50 | peer p95 | Atende p50 | Atende p95 | ratio p50 | ratio p95 | goal ≥10× |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in result["comparison"]:
        if r.get("throughput"):
            lines.append(f"| {r['operation']} | {r['peer_rate']}/s | | {r['atende_rate']}/s | | {r['ratio']}× | | |")
        elif "missing" in r:
            lines.append(f"| {r['operation']} | | | | | not measured ({r['missing']}) | | |")
        else:
            goal = ""
            if r["operation"] in LIST_AND_SEARCH:
                goal = "met" if min(r["ratio_p50"] or 0, r["ratio_p95"] or 0) >= 10 else "**missed**"
            lines.append(f"| {r['operation']} | {r['peer_p50']:,.1f} | {r['peer_p95']:,.1f} | {r['atende_p50']:,.1f} | "
                         f"{r['atende_p95']:,.1f} | {r['ratio_p50']}× | {r['ratio_p95']}× | {goal} |")
    lines += ["", "Client-side wall times in ms over HTTP on 127.0.0.1 (both sides measured the same way); ratio = "
              "peer / Atende. Pairs:"]
    lines += [f"- {r['operation']}: {r['note']}" for r in result["comparison"] if r.get("note")]
    return "\n".join(lines)


def main() -> None:
    cfg = Config.from_env()
    started = now_iso()
    if reuse := os.environ.get("BENCH_ATENDE_RESULTS"):
        atende = json.loads(Path(reuse).read_text())
    else:
        atende = run.main(cfg)
    peer = run_peer(cfg)
    result = {"started": started, "finished": now_iso(), "db": cfg.db, "tickets": cfg.tickets, "machine": machine(),
              "peer_version": peer.get("versions", {}).get("django-helpdesk", "?"),
              "comparison": compare(atende, peer), "atende": atende, "peer": peer}
    path = write_json(result, cfg.results_dir, f"peer-{cfg.db}-{cfg.tickets}")
    print()
    print(markdown(atende))
    print()
    print(comparison_markdown(result))
    print()
    log(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Result files (JSON under bench/results/) and the Markdown tables printed at the end of a run."""

from __future__ import annotations

import datetime
import json
from pathlib import Path


def write_json(results: dict, results_dir: Path, name: str) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{datetime.date.today().isoformat()}-{name}.json"
    if path.exists():  # keep earlier runs of the day
        path = path.with_name(f"{path.stem}-{datetime.datetime.now():%H%M%S}.json")
    path.write_text(json.dumps(results, indent=1, default=str))
    return path


def _fmt(value, digits: int = 1) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(results: dict) -> str:
    lines = [f"### Atende, {results['db']}, {results['tickets']:,} tickets ({results['started'][:16]})", ""]
    m = results["machine"]
    lines += [f"Machine: {m['nproc']} × {m['cpu']}, {m['memory_gib']} GiB; load average at start "
              f"{m['load_average']}, at end {results.get('load_average_end')}.", ""]
    seed = results.get("database", {}).get("seed")
    if seed:
        lines += ["| seeding | tickets | seconds | tickets/s | rows/s |", "|---|---:|---:|---:|---:|",
                  f"| `{seed['command']}` | {_fmt(seed['tickets'])} | {_fmt(seed['wall_seconds'])} | "
                  f"{_fmt(seed['tickets_per_second'])} | {_fmt(seed.get('rows_per_second'))} |", ""]
    reads = results.get("reads", {})
    if reads:
        lines += ["| read (HTTP, logged-in agent) | n | server p50 | p95 | p99 | client p50 | p95 | p99 | SQL queries |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in reads.items():
            s, c, q = r["server_ms"], r["client_ms"], r["queries"]
            queries = str(q["median"]) if q["min"] == q["max"] else f"{q['min']}–{q['max']}"
            note = f" ({r['note']})" if r.get("note") else ""
            lines.append(f"| {name}{note} | {s['n']} | {_fmt(s['p50'])} | {_fmt(s['p95'])} | {_fmt(s['p99'])} | "
                         f"{_fmt(c['p50'])} | {_fmt(c['p95'])} | {_fmt(c['p99'])} | {queries} |")
        lines += ["", "Times in ms. Server time = the Django request (middleware to response, the "
                  "`Server-Timing` header); client time adds HTTP and the load generator on the same 2 cores.", ""]
    writes = results.get("writes", {})
    if writes:
        lines += ["| ticket creation | clients | tickets | tickets/s | p50 ms | p95 ms | p99 ms |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, w in writes.items():
            s = w["latency_ms"]
            lines.append(f"| {name} | {w.get('clients', 1)} | {_fmt(w['tickets'])} | {_fmt(w['tickets_per_second'])} "
                         f"| {_fmt(s.get('p50'))} | {_fmt(s.get('p95'))} | {_fmt(s.get('p99'))} |")
        lines.append("")
    lines += _pipeline(results.get("pipeline", {}))
    for name, w in results.get("realtime", {}).items():
        d, a = w["delivery_ms"], w["until_every_client_ms"]
        lines += ["| websockets | clients | updates | per-client p50 | p99 | until every client p50 | max | missed |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|",
                  f"| {name} | {w['clients']} | {w['updates']} | {_fmt(d.get('p50'))} | {_fmt(d.get('p99'))} | "
                  f"{_fmt(a.get('p50'))} | {_fmt(a.get('max'))} | {w['missed']} |", ""]
    memory = results.get("memory")
    if memory:
        lines += ["| peak resident memory (VmHWM) | MiB |", "|---|---:|"]
        lines += [f"| {proc} process | {_fmt(mib)} |" for proc, mib in memory.items()]
        lines.append("")
    drained = results.get("worker_backlog_before_reads_seconds")
    if drained:
        lines += [f"Before the reads the worker drained the queue left by seeding in {_fmt(drained)} s.", ""]
    if results.get("db_size_mib"):
        lines += [f"Database size: {_fmt(results['db_size_mib'])} MiB.", ""]
    skipped = results.get("skipped", {})
    if skipped:
        lines += ["Skipped:"] + [f"- {name}: {why}" for name, why in skipped.items()] + [""]
    for note in results.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines)


def _pipeline(pipe: dict) -> list[str]:
    """The peak and full-speed runs (lag per subscriber) and the one-versus-two workers drain."""
    lines: list[str] = []
    for name, run in pipe.items():
        if "lag_during_run" not in run:
            continue
        drained = run.get("drained_after_run_seconds")
        lines += [f"**{name}**: {_fmt(run.get('created'))} tickets created at {_fmt(run.get('tickets_per_second'))}/s "
                  f"(p50 {_fmt(run['latency_ms'].get('p50'))} ms, p99 {_fmt(run['latency_ms'].get('p99'))} ms); "
                  f"every lag zero {_fmt(drained)} s after the run" if drained is not None else
                  f"**{name}**: {_fmt(run.get('created'))} tickets created at {_fmt(run.get('tickets_per_second'))}/s; "
                  f"{run.get('note')}", "",
                  "| subscriber | lag p50 s | lag p99 s | max s | events p50 | p99 | growth events/s | growth s/s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for sub, lag in run["lag_during_run"].items():
            s, e = lag["lag_seconds"], lag["lag_events"]
            lines.append(f"| {sub} | {_fmt(s['p50'])} | {_fmt(s['p99'])} | {_fmt(s['max'])} | {_fmt(e['p50'])} | "
                         f"{_fmt(e['p99'])} | {_fmt(lag['growth_events_per_s'], 2)} | "
                         f"{_fmt(lag['growth_seconds_per_s'], 2)} |")
        lines.append("")
    scale = pipe.get("drain with 1 and 2 workers")
    if scale:
        lines += ["| working a backlog (PostgreSQL) | seconds | subscriber events | per second | backlog left |",
                  "|---|---:|---:|---:|---|"]
        lines += [f"| {r['workers']} worker(s) | {_fmt(r['seconds'])} | {_fmt(r['subscriber_events'])} | "
                  f"{_fmt(r['subscriber_events_per_second'])} | {'yes' if r['backlog_left'] else 'no'} |"
                  for r in scale["runs"]]
        lines += ["", f"Two workers / one: {scale['ratio']}× ({scale['partitions']} partition(s) per subscriber).", ""]
    return lines

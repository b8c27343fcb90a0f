"""HTTP helpers: a logged-in agent session and a timed-request loop reading the server's own timing headers."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

import httpx

from harness.common import Config, Skip, log, summary

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT_LINK = re.compile(r'rel="next"\s+href="([^"]+)"')
SERVER_TIMING = re.compile(r"(\w+);dur=([\d.]+)")
OP_BUDGET_SECONDS = 180.0  # a pathological page stops early (with a note) instead of running for an hour
MIN_SAMPLES = 20


def login(cfg: Config, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=cfg.base_url, timeout=120, follow_redirects=False)
    page = client.get("/accounts/login/")
    token = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or not token:
        raise RuntimeError(f"login page: {page.status_code}")
    resp = client.post("/accounts/login/", data={"csrfmiddlewaretoken": token.group(1), "username": email,
                                                 "password": password},
                       headers={"Referer": f"{cfg.base_url}/accounts/login/"})
    if resp.status_code != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"login as {email} failed: {resp.status_code}")
    return client


def next_link(body: str) -> str | None:
    match = NEXT_LINK.search(body)
    return html.unescape(match.group(1)) if match else None


def check(resp: httpx.Response, what: str) -> httpx.Response:
    if resp.status_code == 404:
        raise Skip(f"{what}: {resp.request.url.path} answers 404 (not built yet)")
    if resp.status_code != 200:
        raise RuntimeError(f"{what}: {resp.request.url} answered {resp.status_code}")
    return resp


def timed(client: httpx.Client, cfg: Config, name: str, urls: Callable[[int], list[str]] | list[str],
          *, headers: dict | None = None, warmup: int = 3) -> dict:
    """GET the op's URL(s) ``cfg.requests`` times, one after another; an op of several URLs (a page and the
    partials it loads) counts as one request whose times are the sums."""
    pick = urls if callable(urls) else (lambda i: urls)
    for i in range(warmup):
        for url in pick(-1 - i):
            check(client.get(url, headers=headers), name)
    client_ms, app_ms, db_ms, queries, sizes = [], [], [], [], []
    started = time.perf_counter()
    note = ""
    for i in range(cfg.requests):
        total = app = db = 0.0
        count = size = 0
        for url in pick(i):
            t0 = time.perf_counter()
            resp = client.get(url, headers=headers)
            body = resp.content
            total += (time.perf_counter() - t0) * 1000
            check(resp, name)
            timing = dict(SERVER_TIMING.findall(resp.headers.get("server-timing", "")))
            app += float(timing.get("app", 0))
            db += float(timing.get("db", 0))
            count += int(resp.headers.get("x-query-count", 0))
            size += len(body)
        client_ms.append(total)
        app_ms.append(app)
        db_ms.append(db)
        queries.append(count)
        sizes.append(size)
        if time.perf_counter() - started > OP_BUDGET_SECONDS and i + 1 >= MIN_SAMPLES:
            note = f"stopped after {i + 1} requests (budget {OP_BUDGET_SECONDS:.0f} s)"
            break
    result = {"client_ms": summary(client_ms), "server_ms": summary(app_ms), "db_ms": summary(db_ms),
              "queries": {"min": min(queries), "max": max(queries), "median": sorted(queries)[len(queries) // 2]},
              "bytes": sorted(sizes)[len(sizes) // 2], "urls": pick(0)}
    if note:
        result["note"] = note
    s = result["server_ms"]
    log(f"  {name:<44} server p50 {s['p50']:8.1f}  p95 {s['p95']:8.1f}  p99 {s['p99']:8.1f} ms  "
        f"client p50 {result['client_ms']['p50']:8.1f} ms  {result['queries']['median']:3d} queries")
    return result

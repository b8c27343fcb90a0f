"""The web server's (uvicorn's) options, the same wherever it is started: ``atende serve``, the servers the tests
start and the benchmark's.

Keep-alive: a client that reuses an idle connection just as the server closes it gets no response (the request
was sent, the connection closed under it). uvicorn closes idle connections after 5 s, and httpx, among others,
keeps them for 5 s too: at a steady load some reuses met the close (5 of 6,000 requests of a benchmark's peak
run failed so). Clients and proxies keep idle connections at most about a minute (nginx's upstream keep-alive,
cloud load balancers: 60 s), so the server keeps them longer than that, and the client is always the side that
lets go first. ``WEB_KEEP_ALIVE`` (seconds) changes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

KEEP_ALIVE_SECONDS = 75


def keep_alive_seconds(environ: Mapping[str, str] = os.environ) -> int:
    raw = (environ.get("WEB_KEEP_ALIVE") or "").strip()
    if not raw:
        return KEEP_ALIVE_SECONDS
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise ValueError(f"WEB_KEEP_ALIVE must be a whole number of seconds, at least 1 (it is {raw!r}).")
    return seconds


def uvicorn_options(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Command-line options for ``python -m uvicorn`` besides the application, address and lifespan."""
    return ["--timeout-keep-alive", str(keep_alive_seconds(environ))]

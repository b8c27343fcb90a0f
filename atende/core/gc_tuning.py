"""Garbage collection for long-running processes: what start-up loaded is left out of every later collection.

Reference counting frees almost everything; CPython's cycle collector also walks every tracked object of a
generation it collects, and a full collection walks all of them. A web process holds about a million objects
after start-up (modules, Django's apps and URL patterns, the ORM's models, the templates it compiled): measured
in the chat run (1,000 visitors), full collections came every 3–15 s in the web process and took 240–730 ms each,
during which no request, websocket frame or channel-layer push moved. That, not the database, was the tail of
the message latency (docs/benchmarks.md).

``settle()`` runs once a process has loaded what it will keep for its whole life: one collection, then
``gc.freeze()`` moves every surviving object to the permanent generation, which collections skip. The young
generation's threshold is raised as well, so a request's short-lived objects die of their reference counts
before a collection promotes them (promoted ones are what make full collections come often). ``GC_TUNING=0``
keeps the interpreter's defaults (to compare).
"""

from __future__ import annotations

import gc
import os

from atende.core import gil

# Collect the young generation after this many allocations (CPython's default: 700); generations 1 and 2 keep
# their ratios. In the chat run (thread CPU time of the web process), 700 left full collections of the objects
# made since start-up (up to 222 ms, 15 in a minute), 20,000 made single young collections of 58–112 ms; 7,000:
# no full collection, the longest young one 26 ms and the longest middle one 68 ms.
YOUNG_THRESHOLD = 7_000


def enabled() -> bool:
    return os.environ.get("GC_TUNING", "1").strip().lower() not in {"0", "false", "no", "off"}


def settle(*, load_urls: bool = True) -> bool:
    """Load every URLconf and view (unless ``load_urls`` is False), then freeze what the process has loaded so
    far (call it again after more start-up work: it adds to the frozen set). Returns whether it froze anything.

    The URLconf is loaded whatever ``GC_TUNING`` says: long-running processes reverse URLs (links in mails,
    webhook payloads, live pushes), and the first ``reverse`` imports every view module, the triage model's and
    SAML's libraries among them: 4.6 s of CPU on this project's benchmark machine. In the events worker that
    came in the middle of its first delivery, with the events behind it waiting, and after the freeze, so every
    later collection walked it again. The scheduler, which only queues jobs, passes False and stays small.

    It also sets the interpreter's switch interval (``core.gil``), whatever ``GC_TUNING`` says."""
    gil.tune()  # every long-running process passes here once, early
    if load_urls:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - the import is the point
    if not enabled():
        return False
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return True

"""The product's one throttle: how often a subject (an address, an account, an IP, a token) may do a thing.

    decision = throttle_hit("signin.ip", client_ip(request), rates("signin.ip"))
    if not decision.allowed: ...                          # decision.retry_after seconds until the next try

Every limit is a sliding window, estimated from two fixed windows (the current one and the previous one,
weighted by how much of it still overlaps the last ``period`` seconds), so a burst across a window boundary is
not let through twice. Several limits checked together ("1 a minute and 5 a day") are all-or-nothing: an attempt
refused by one is not counted by the others.

Where the counts live (``settings.ATENDE_THROTTLE_STORE``):
- ``database``: a row per window in ``core.ThrottleBucket``, incremented with one conditional upsert, so every
  process (web, worker, mail listener) shares it. The default when the cache is local to a process.
- ``cache``: Django's cache (``add``/``incr``, atomic in Redis). The default when the cache is shared (Redis).
``settings.ATENDE_THROTTLE_STORE_BY_SCOPE`` picks the store for one scope when the global setting is empty (the
API's per-request count stays in the cache, so reads do not become database writes).
Refused attempts are always recorded in ``ThrottleBucket`` (``refused``, ``last_refused_at``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.utils import timezone

from atende.core.exceptions import DomainError
from atende.core.memo import batch_cached
from atende.core.models import ThrottleBucket

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
LOCAL_CACHES = ("LocMemCache", "DummyCache", "FileBasedCache")


class Throttled(DomainError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    code = "throttled"
    status = 429

    def __init__(self, message: str = "", *, retry_after: float, scope: str = ""):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message or "Too many attempts. Try again later.",
                         details={"retry_after": self.retry_after, "scope": scope})


@dataclass(frozen=True)
class Rate:
    count: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"5/15m"``, ``"1/min"``, ``"600/60s"``, ``"10/day"``."""
        match = RATE_RE.match(text.lower())
        if not match or match.group(3) not in UNITS:
            raise ValueError(f"not a rate: {text!r} (expected e.g. '5/15m', '1/min', '10/day')")
        return cls(int(match.group(1)), int(match.group(2) or 1) * UNITS[match.group(3)])

    def __str__(self) -> str:
        return f"{self.count}/{self.period}s"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until one more attempt would be admitted (0 when allowed)
    remaining: int = 0  # attempts still admitted now under the tightest limit, after this one
    refused_by: Rate | None = None


# Each configured text parsed once per process: keyed by the text itself, so a changed setting (a test's
# override, a reloaded configuration) is parsed anew and an unchanged one costs one dictionary read per request.
_PARSED: dict[str, tuple[Rate, ...]] = {}


def rates(scope: str) -> list[Rate]:
    """The limits configured for ``scope`` in ``settings.ATENDE_THROTTLE_RATES`` (an empty list: unlimited)."""
    configured = settings.ATENDE_THROTTLE_RATES.get(scope)
    if isinstance(configured, str):
        parsed = _PARSED.get(configured)
        if parsed is None:
            if len(_PARSED) >= 256:  # the texts are few; this only bounds settings changed over and over
                _PARSED.clear()
            parsed = _PARSED[configured] = tuple(_parse(configured))
        return list(parsed)
    if configured is None:
        raise KeyError(f"no throttle rates configured for {scope!r}")
    return _parse(configured)


def _parse(configured: str | Sequence[str | Rate]) -> list[Rate]:
    if isinstance(configured, str):
        configured = [part for part in configured.split(",") if part.strip()]
    parsed = [item if isinstance(item, Rate) else Rate.parse(item) for item in configured]
    return [rate for rate in parsed if rate.count > 0]  # "0/min" switches a limit off (as an empty value does)


def client_ip(request) -> str:
    """The caller's address as the throttle keys it: IPv6 by its /64 (one host usually holds the whole prefix).

    ``REMOTE_ADDR`` is the peer, or the client named by ``X-Forwarded-For`` when the server was started behind a
    trusted proxy (uvicorn reads the proxy list from ``FORWARDED_ALLOW_IPS``; loopback by default)."""
    raw = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def subject_key(subject: str) -> str:
    subject = subject.strip().lower()
    return subject if len(subject) <= 200 else "sha256:" + hashlib.sha256(subject.encode()).hexdigest()


def store_name(scope: str = "") -> str:
    configured = getattr(settings, "ATENDE_THROTTLE_STORE", "")
    if configured:
        return configured
    per_scope = getattr(settings, "ATENDE_THROTTLE_STORE_BY_SCOPE", {}).get(scope)
    if per_scope:
        return per_scope
    backend = settings.CACHES["default"]["BACKEND"]
    return "database" if backend.rsplit(".", 1)[-1] in LOCAL_CACHES else "cache"


# --- the sliding-window arithmetic -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Window:
    rate: Rate
    start: int  # epoch seconds
    weight: float  # share of the previous window still inside the last ``period`` seconds

    @classmethod
    def at(cls, rate: Rate, now: float) -> _Window:
        start = int(now // rate.period) * rate.period
        return cls(rate, start, 1.0 - (now - start) / rate.period)

    def max_current(self, previous: int, cost: int) -> int:
        """The highest current count at which ``cost`` more attempts still fit (negative: none fit)."""
        return math.floor(self.rate.count - previous * self.weight - cost + 1e-9)

    def retry_after(self, previous: int, current: int, cost: int, now: float) -> float:
        room = self.rate.count - cost
        elapsed = now - self.start
        if current > room:  # only once this window has become the previous one and faded enough
            fade = 1.0 - room / current if current else 1.0
            return (self.rate.period - elapsed) + self.rate.period * fade
        if previous <= 0:
            return 0.0
        needed = self.rate.period * (1.0 - (room - current) / previous) - elapsed
        return max(0.0, min(needed, self.rate.period - elapsed))


class _Refused(Exception):
    def __init__(self, window: _Window, previous: int, current: int):
        self.window, self.previous, self.current = window, previous, current


# --- stores ---------------------------------------------------------------------------------------------------

class DatabaseStore:
    def counts(self, scope: str, subject: str, windows: Sequence[_Window]) -> dict[tuple[int, int], int]:
        wanted = {(w.rate.period, s) for w in windows for s in (w.start, w.start - w.rate.period)}
        rows = ThrottleBucket.objects.filter(scope=scope, subject=subject,
                                             period__in={w.rate.period for w in windows},
                                             window_start__in={s for _, s in wanted})
        return {(p, s): hits for p, s, hits in rows.values_list("period", "window_start", "hits") if (p, s) in wanted}

    def add(self, scope: str, subject: str, windows: Sequence[_Window], cost: int) -> dict[tuple[int, int], int]:
        """Count ``cost`` in every window, or in none (raises _Refused naming the window that is full); returns
        the counts with this attempt in them. One window needs no savepoint: a refused upsert changes nothing."""
        with transaction.atomic() if len(windows) > 1 else nullcontext():
            counts = _previous_known(scope, subject, windows)
            if counts is None:
                counts = self.counts(scope, subject, windows)
            for window in windows:
                prev = counts.get((window.rate.period, window.start - window.rate.period), 0)
                limit = window.max_current(prev, cost)
                hits = self._increment(scope, subject, window, cost, limit) if limit >= 0 else None
                if hits is None:
                    current = self.counts(scope, subject, [window]).get((window.rate.period, window.start), 0)
                    raise _Refused(window, prev, current)
                counts[(window.rate.period, window.start)] = hits
        return counts

    def _increment(self, scope: str, subject: str, window: _Window, cost: int, limit: int) -> int | None:
        """The window's count after adding ``cost``, or None when that would pass ``limit``."""
        expires = _expiry(window)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_throttlebucket (scope, subject, period, window_start, hits, refused, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, 0, %s)"
                " ON CONFLICT (scope, subject, period, window_start) DO UPDATE"
                " SET hits = core_throttlebucket.hits + excluded.hits WHERE core_throttlebucket.hits <= %s"
                " RETURNING hits",
                [scope, subject, window.rate.period, window.start, cost, expires, limit])
            row = cursor.fetchone()
            return row[0] if row is not None else None

    def forget(self, scope: str, subject: str, windows: Sequence[_Window]) -> None:
        ThrottleBucket.objects.filter(scope=scope, subject=subject).update(hits=0)


def throttle_prefetch(scope: str, subjects: Sequence[str], limits: Sequence[Rate], *, now: float | None = None
                      ) -> None:
    """Inside a ``core.memo.batch_scope`` (a group of ``mail-import``): the counts of these subjects' previous
    windows, read in one query, so that each ``transactional`` hit that follows in the scope reads none and is one
    statement (a round trip less on PostgreSQL). A previous window is closed, no attempt is counted in it any more;
    the current one's count comes back from the hit itself (and is read afresh for a refusal's retry time)."""
    now = time.time() if now is None else now
    windows = [_Window.at(rate, now) for rate in limits]
    subjects = {subject_key(subject) for subject in subjects}
    known = batch_cached(("throttle.previous", scope), dict)
    if not windows or not subjects:
        return
    previous = {(w.rate.period, w.start - w.rate.period) for w in windows}
    rows = ThrottleBucket.objects.filter(scope=scope, subject__in=subjects, period__in={p for p, _s in previous},
                                         window_start__in={s for _p, s in previous})
    found = {(subject, period, start): hits for subject, period, start, hits in
             rows.values_list("subject", "period", "window_start", "hits") if (period, start) in previous}
    known.update({(subject, period, start): found.get((subject, period, start), 0)
                  for subject in subjects for period, start in previous})


def _previous_known(scope: str, subject: str, windows: Sequence[_Window]) -> dict[tuple[int, int], int] | None:
    """The previous windows' counts ``throttle_prefetch`` read in this batch scope, or None when it read not all."""
    known = batch_cached(("throttle.previous", scope), dict)
    counts = {}
    for window in windows:
        key = (window.rate.period, window.start - window.rate.period)
        if (subject, *key) not in known:
            return None
        counts[key] = known[(subject, *key)]
    return counts


class CacheStore:
    def _key(self, scope: str, subject: str, period: int, start: int) -> str:
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"atende:throttle:{scope}:{period}:{start}:{digest}"

    def counts(self, scope: str, subject: str, windows: Sequence[_Window]) -> dict[tuple[int, int], int]:
        keys = {self._key(scope, subject, w.rate.period, s): (w.rate.period, s)
                for w in windows for s in (w.start, w.start - w.rate.period)}
        return {keys[k]: int(v) for k, v in cache.get_many(list(keys)).items()}

    def add(self, scope: str, subject: str, windows: Sequence[_Window], cost: int) -> dict[tuple[int, int], int]:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            return self._add_redis(backend, scope, subject, windows, cost)
        previous = self.counts(scope, subject, windows)
        counts = dict(previous)
        done: list[str] = []
        for window in windows:
            prev = previous.get((window.rate.period, window.start - window.rate.period), 0)
            limit = window.max_current(prev, cost)
            key = self._key(scope, subject, window.rate.period, window.start)
            timeout = 2 * window.rate.period + 5
            try:
                current = cache.incr(key, cost)
            except ValueError:  # a window not counted in yet (or just expired)
                current = cost if cache.add(key, cost, timeout=timeout) else cache.incr(key, cost)
            done.append(key)
            if limit < 0 or current - cost > limit:
                for undo in done:
                    cache.decr(undo, cost)
                raise _Refused(window, prev, current - cost)
            counts[(window.rate.period, window.start)] = current
        return counts

    def _add_redis(self, backend: RedisCache, scope: str, subject: str, windows: Sequence[_Window],
                   cost: int) -> dict[tuple[int, int], int]:
        """``add`` in one round trip (Django's calls took three: the counts, then ``incr``'s existence check and
        the increment): each window's previous count read, its current one incremented and given its expiry
        (absolute, so every hit sets the same one) in one pipeline; a refusal takes it back in a second."""
        keys = [(backend.make_and_validate_key(self._key(scope, subject, w.rate.period, w.start)),
                 backend.make_and_validate_key(self._key(scope, subject, w.rate.period, w.start - w.rate.period)))
                for w in windows]
        client = backend._cache.get_client(keys[0][0], write=True)
        pipe = client.pipeline(transaction=False)
        for window, (current_key, previous_key) in zip(windows, keys, strict=True):
            pipe.get(previous_key)
            pipe.incrby(current_key, cost)
            pipe.expireat(current_key, window.start + 2 * window.rate.period + 5)
        replies = pipe.execute()
        counts: dict[tuple[int, int], int] = {}
        refused = None
        for i, window in enumerate(windows):
            prev, current = int(replies[3 * i] or 0), int(replies[3 * i + 1])
            counts[(window.rate.period, window.start - window.rate.period)] = prev
            counts[(window.rate.period, window.start)] = current
            limit = window.max_current(prev, cost)
            if refused is None and (limit < 0 or current - cost > limit):
                refused = _Refused(window, prev, current - cost)
        if refused is not None:
            undo = client.pipeline(transaction=False)
            for current_key, _previous_key in keys:
                undo.decrby(current_key, cost)
            undo.execute()
            raise refused
        return counts

    def forget(self, scope: str, subject: str, windows: Sequence[_Window]) -> None:
        cache.delete_many([self._key(scope, subject, w.rate.period, s)
                           for w in windows for s in (w.start, w.start - w.rate.period)])


def _store(scope: str) -> DatabaseStore | CacheStore:
    return CacheStore() if store_name(scope) == "cache" else DatabaseStore()


def _expiry(window: _Window) -> datetime:
    return datetime.fromtimestamp(window.start + 2 * window.rate.period, tz=UTC)


def _record_refusal(scope: str, subject: str, window: _Window) -> None:
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_throttlebucket"
            " (scope, subject, period, window_start, hits, refused, last_refused_at, expires_at)"
            " VALUES (%s, %s, %s, %s, 0, 1, %s, %s)"
            " ON CONFLICT (scope, subject, period, window_start) DO UPDATE"
            " SET refused = core_throttlebucket.refused + 1, last_refused_at = excluded.last_refused_at",
            [scope, subject, window.rate.period, window.start, now, _expiry(window)])


# --- the API --------------------------------------------------------------------------------------------------

def throttle_hit(scope: str, subject: str, limits: Sequence[Rate], *, cost: int = 1,
                 now: float | None = None, transactional: bool = False) -> Decision:
    """Count one attempt by ``subject`` at ``scope`` if every limit still has room; otherwise count nothing,
    record the refusal and say how long to wait.

    ``transactional``: the count belongs to the caller's open transaction and goes if it rolls back (a message
    quarantined later in its savepoint, a group retried one message at a time). Only the database store can do
    that, so it is used whatever store the scope is configured with: a cache counter would keep the undone
    attempt and count it again when the work is redone."""
    if not limits:
        return Decision(allowed=True, remaining=2**31)
    now = time.time() if now is None else now
    subject = subject_key(subject)
    windows = [_Window.at(rate, now) for rate in limits]
    store = DatabaseStore() if transactional else _store(scope)
    try:
        counts = store.add(scope, subject, windows, cost)
    except _Refused as refused:
        _record_refusal(scope, subject, refused.window)
        logger.info("throttle %s refused %s (%s)", scope, subject, refused.window.rate)
        return Decision(allowed=False, refused_by=refused.window.rate,
                        retry_after=refused.window.retry_after(refused.previous, refused.current, cost, now))
    return _decision(counts, windows, now, cost=0)  # from the counts just written: no second read


def throttle_check(scope: str, subject: str, limits: Sequence[Rate], *, cost: int = 1,
                   now: float | None = None) -> Decision:
    """Would one more attempt be admitted? Counts nothing (e.g. "is this account locked?" before a password
    check, where only failures are counted)."""
    if not limits:
        return Decision(allowed=True, remaining=2**31)
    now = time.time() if now is None else now
    subject = subject_key(subject)
    windows = [_Window.at(rate, now) for rate in limits]
    return _decision(_store(scope).counts(scope, subject, windows), windows, now, cost=cost)


def _decision(counts: dict[tuple[int, int], int], windows: Sequence[_Window], now: float, *, cost: int) -> Decision:
    remaining, worst = 2**31, None
    for window in windows:
        prev = counts.get((window.rate.period, window.start - window.rate.period), 0)
        current = counts.get((window.rate.period, window.start), 0)
        room = math.floor(window.rate.count - prev * window.weight + 1e-9) - current  # attempts still admitted
        remaining = min(remaining, max(0, room))
        if room < cost and worst is None:
            worst = (window, prev, current)
    if worst is not None:
        window, prev, current = worst
        return Decision(allowed=False, refused_by=window.rate, retry_after=window.retry_after(prev, current, cost, now))
    return Decision(allowed=True, remaining=remaining)


def throttle_reset(scope: str, subject: str, limits: Sequence[Rate], *, now: float | None = None) -> None:
    """Forget the admitted attempts of ``subject`` at ``scope`` (a successful sign-in clears its failures)."""
    now = time.time() if now is None else now
    _store(scope).forget(scope, subject_key(subject), [_Window.at(rate, now) for rate in limits])


def throttle_or_raise(scope: str, subject: str, limits: Sequence[Rate] | None = None, *, message: str = "") -> None:
    """``throttle_hit`` for code that answers with an error: raises ``Throttled`` (HTTP 429) when refused."""
    decision = throttle_hit(scope, subject, rates(scope) if limits is None else limits)
    if not decision.allowed:
        raise Throttled(message, retry_after=decision.retry_after, scope=scope)


def throttled(scope: str, *, key: Callable = client_ip, methods: Sequence[str] = ("POST",), message: str = ""):
    """Decorator for a view or a ninja endpoint: one attempt per call in ``methods``, keyed by ``key(request)``
    (the client IP by default), raising ``Throttled`` when refused (pages render it, the API answers 429)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                throttle_or_raise(scope, key(request), message=message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def throttle_prune(*, now: datetime | None = None, keep_refusals_days: int = 30) -> int:
    """Delete windows that ended, keeping those with refusals for ``keep_refusals_days``."""
    now = now or timezone.now()
    ended = ThrottleBucket.objects.filter(expires_at__lt=now, refused=0).delete()[0]
    old = ThrottleBucket.objects.filter(expires_at__lt=now - timedelta(days=keep_refusals_days)).delete()[0]
    return ended + old

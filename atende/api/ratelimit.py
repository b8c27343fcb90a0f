"""Fixed-window request counting per token (or per signed-in user) in Django's cache: locmem or Redis."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from atende.api.errors import RateLimited


def rate_limit(*, bucket: str) -> None:
    """Count one request in ``bucket``; raise RateLimited with the seconds left in the window when over."""
    limit, window = getattr(settings, "ATENDE_API_RATE_LIMIT", (600, 60))
    if not limit:
        return
    now = time.time()
    window_start = int(now // window) * window
    key = f"atende:api:rate:{bucket}:{window_start}"
    if cache.add(key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, timeout=window + 5)
            count = 1
    if count > limit:
        raise RateLimited(retry_after=window_start + window - now, limit=limit, window=window)

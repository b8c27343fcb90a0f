"""URLs that differ only by one integer id, reversed once per process: ``reverse()`` walks the resolver for each
call (about 140 function calls), and a ticket page asks for the same few patterns many times."""

from __future__ import annotations

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# An id no row has, replaced in the reversed URL by the real one (an ``<int:…>`` part writes ``str(value)``).
_STAND_IN = 918_273_645_546_372_819
_PATTERNS: dict[tuple, tuple[str, str]] = {}
_URLS: dict[tuple, str] = {}


def url_with_id(name: str, value: int) -> str:
    """``reverse(name, args=[value])`` for a URL whose one argument is an ``<int:…>`` part."""
    if type(value) is not int or value < 0:
        return reverse(name, args=[value])
    key = (name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    parts = _PATTERNS.get(key)
    if parts is None:
        head, found, tail = reverse(name, args=[_STAND_IN]).partition(str(_STAND_IN))
        if not found:
            return reverse(name, args=[value])
        parts = _PATTERNS[key] = (head, tail)
    return f"{parts[0]}{value}{parts[1]}"


def url_without_args(name: str) -> str:
    """``reverse(name)``, once per process."""
    key = (name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    url = _URLS.get(key)
    if url is None:
        url = _URLS[key] = reverse(name)
    return url

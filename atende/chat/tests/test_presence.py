"""Chat presence lives in the ``presence`` cache (shared by the web process and the events worker on one machine),
or in the default cache where the settings define only that one (Redis, shared anyway)."""

from __future__ import annotations

from django.core.cache import caches

from atende.chat import realtime


def test_presence_is_written_to_the_presence_cache_and_read_back(settings):
    assert "presence" in settings.CACHES
    realtime.presence_touch("visitor", 41, "tab-1")
    assert caches["presence"].get("chat:presence:visitor:41")
    assert caches["default"].get("chat:presence:visitor:41") is None
    assert realtime.present("visitor", [41, 42]) == {41}
    assert realtime.presence_leave("visitor", 41, "tab-1") is True
    assert realtime.present("visitor", [41]) == set()


def test_without_a_presence_cache_the_default_one_holds_it(settings):
    settings.CACHES = {"default": settings.CACHES["default"]}
    realtime.presence_touch("agent", 7, "console-1")
    assert caches["default"].get("chat:presence:agent:7")
    assert realtime.present("agent", [7]) == {7}
    realtime.presence_leave("agent", 7, "console-1")

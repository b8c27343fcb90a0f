"""The cache the processes of one machine share (live chat's presence without Redis): what one process writes,
another reads; entries expire; the directory is swept at most once a minute, not on every write."""

from __future__ import annotations

import os
import shutil
import time

from atende.core.localcache import LocalSharedCache


def make(path) -> LocalSharedCache:
    return LocalSharedCache(str(path), {"OPTIONS": {"MAX_ENTRIES": 3}})


def test_what_one_process_writes_another_reads_until_it_expires_or_is_deleted(tmp_path):
    web, worker = make(tmp_path), make(tmp_path)  # two processes: two cache objects over one directory
    web.set("chat:presence:visitor:7", {"chan-1": time.time() + 60}, 60)
    web.set("chat:presence:visitor:8", {"chan-2": 1.0}, 1)
    assert set(worker.get_many(["chat:presence:visitor:7", "chat:presence:visitor:9"])) == {"chat:presence:visitor:7"}
    web.delete("chat:presence:visitor:7")
    assert worker.get("chat:presence:visitor:7") is None
    time.sleep(1.1)
    assert worker.get("chat:presence:visitor:8") is None


def test_the_sweep_over_max_entries_runs_at_most_once_a_minute(tmp_path, monkeypatch):
    cache = make(tmp_path)
    listings = []
    real = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listings.append(1) or real())
    for n in range(10):
        cache.set(f"k{n}", n, 60)
    assert len(listings) == 1
    assert len(real()) <= 10  # the one sweep ran with 1 entry: nothing over the limit yet
    monkeypatch.setattr("atende.core.localcache.time.monotonic", lambda: time.monotonic_ns() / 1e9 + 120)
    cache.set("k-late", 1, 60)
    assert len(listings) == 2
    assert len(real()) < 11  # the second sweep culled (a third of the entries, as Django does)


def test_building_the_cache_object_touches_no_file_and_the_first_write_makes_the_directory(tmp_path, monkeypatch):
    """Django builds a cache object per request: building one must not touch the file system (it made the directory
    and changed the process's umask each time). Reads of a directory not made yet find nothing; a write makes it,
    also after it was deleted."""
    where = tmp_path / "cache" / "shared"
    umasks = []
    real_umask = os.umask
    monkeypatch.setattr("os.umask", lambda mask: umasks.append(mask) or real_umask(mask))
    cache = make(where)
    assert not where.exists() and umasks == []
    assert cache.get("atende:generation:tickets") is None
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("atende:generation:tickets", "token-1", None) is True
    assert make(where).get("atende:generation:tickets") == "token-1"
    shutil.rmtree(where)
    cache.set("atende:generation:tickets", "token-2", None)
    assert make(where).get("atende:generation:tickets") == "token-2"

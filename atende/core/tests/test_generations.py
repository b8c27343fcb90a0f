"""Process copies (core.generations): reused while the shared token stands, read again once a change commits,
in this process and in any other that shares the cache."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from django.db import transaction

from atende.core import generations
from atende.core.testing.generations import commit_generation_changes

NAME = "tests.rows"


class RolledBack(Exception):
    pass


@pytest.fixture
def loads():
    calls = []

    def load():
        calls.append(1)
        return (len(calls),)

    return load, calls


def test_a_copy_is_reused_until_a_change_commits(db, loads, django_capture_on_commit_callbacks):
    load, calls = loads
    commit_generation_changes()
    assert generations.kept(NAME, load) == generations.kept(NAME, load) == (1,)
    with django_capture_on_commit_callbacks(execute=True):
        generations.bump(NAME)
    assert generations.kept(NAME, load) == (2,) and len(calls) == 2


def test_until_it_commits_a_change_is_read_by_its_own_transaction_and_kept_by_nobody(db, loads):
    load, calls = loads
    commit_generation_changes()
    generations.kept(NAME, load)
    before = generations.token(NAME)
    with pytest.raises(RolledBack), transaction.atomic():
        generations.bump(NAME)
        assert generations.kept(NAME, load) == (2,) and generations.kept(NAME, load) == (3,)  # read each time
        assert generations.token(NAME) == before  # nothing told to other processes yet
        raise RolledBack
    assert generations.kept(NAME, load) == (1,)  # rolled back: the copy from before stands


def test_a_cache_that_keeps_nothing_keeps_no_copy(settings, loads):
    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    load, calls = loads
    assert generations.kept(NAME, load) == (1,) and generations.kept(NAME, load) == (2,)


def test_a_change_committed_in_another_process_outdates_this_ones_copy(settings, tmp_path, loads):
    """Two processes and the file cache they share without Redis (settings.base's "shared")."""
    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": "atende.core.localcache.LocalSharedCache",
                                                     "LOCATION": str(tmp_path)}}
    load, calls = loads
    assert generations.kept(NAME, load) == generations.kept(NAME, load) == (1,)
    other = textwrap.dedent(f"""
        import django
        from django.conf import settings
        settings.configure(CACHES={{"default": {{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
                                   "shared": {{"BACKEND": "atende.core.localcache.LocalSharedCache",
                                              "LOCATION": {str(tmp_path)!r}}}}}, INSTALLED_APPS=[])
        django.setup()
        from atende.core import generations
        generations._Bump({NAME!r})()  # what bump() runs when the change commits
    """)
    subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
    assert generations.kept(NAME, load) == (2,)
    assert generations.kept(NAME, load) == (2,)


def test_a_copy_is_read_again_once_it_is_old_even_without_a_new_token(db, loads, monkeypatch):
    """A change whose token was never replaced (the process died between the commit and the replacement, or a
    write bypassed the services) is seen after at most MAX_AGE seconds."""
    load, calls = loads
    commit_generation_changes()
    clock = [1000.0]
    monkeypatch.setattr(generations.time, "monotonic", lambda: clock[0])
    assert generations.kept(NAME, load) == (1,)
    clock[0] += generations.MAX_AGE - 1
    assert generations.kept(NAME, load) == (1,)
    clock[0] += 2
    assert generations.kept(NAME, load) == (2,) and len(calls) == 2

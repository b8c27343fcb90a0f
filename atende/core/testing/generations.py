"""Tests of process copies (``core.generations``): a test's transaction never commits, so the token changes its
saves wait for are never made; these make them, or make the change another process's commit would."""

from __future__ import annotations

from django.db import transaction

from atende.core import generations


def commit_generation_changes() -> None:
    """The test's rows count as committed: the token changes their saves wait for are made now."""
    connection = transaction.get_connection()
    bumps = [entry for entry in connection.run_on_commit if isinstance(entry[1], generations._Bump)]
    connection.run_on_commit = [entry for entry in connection.run_on_commit if entry not in bumps]
    for _savepoints, callback, _robust in bumps:
        callback()


def another_process_commits(name: str) -> None:
    """What a change committed in another process leaves in this one: only the shared token of ``name`` changes."""
    generations._Bump(name)()

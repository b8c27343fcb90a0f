"""Migrated databases for tests that run the product in processes of their own (servers, workers, commands).

Migrating a new SQLite database takes about 13 s of CPU, and a dozen tests each need one (some a seeded demo desk
too). ``migrated_database`` migrates, and seeds, once per test process and per kind (settings module and seed
script) into a template, then copies the template for each test: milliseconds instead of seconds. Other
databases (PostgreSQL) are migrated in place, as before.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[3]
MIGRATE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
"""

_templates: dict[tuple[str, str], Path] = {}
_lock = threading.Lock()


def sqlite_path(database_url: str) -> Path | None:
    """The file of a ``sqlite:///…`` URL; None for any other database."""
    parsed = urlparse(database_url)
    return Path(parsed.path) if parsed.scheme == "sqlite" and parsed.path not in ("", "/", "/:memory:") else None


def migrated_database(env: Mapping[str, str], *, seed: str = "", timeout: float = 300) -> None:
    """The database ``env["DATABASE_URL"]`` names, migrated and then set up by ``seed`` (Python run after
    ``django.setup()``, with ``env``). The files the seed writes beside a SQLite database (media) come along."""
    target = sqlite_path(env["DATABASE_URL"])
    if target is None:
        _run(MIGRATE + seed, env, timeout)
        return
    template = _template(env, seed, timeout)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(template / "template.sqlite3") as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    for item in template.iterdir():
        if not item.name.startswith("template.sqlite3"):
            (shutil.copytree(item, target.parent / item.name, dirs_exist_ok=True) if item.is_dir()
             else shutil.copy2(item, target.parent / item.name))


def _template(env: Mapping[str, str], seed: str, timeout: float) -> Path:
    key = (env.get("DJANGO_SETTINGS_MODULE", ""), seed)
    with _lock:
        if key not in _templates:
            folder = Path(tempfile.mkdtemp(prefix="atende-template-"))
            atexit.register(shutil.rmtree, folder, True)
            _run(MIGRATE + seed, {**env, "DATABASE_URL": f"sqlite:///{folder / 'template.sqlite3'}",
                                  "ATENDE_VAR_DIR": str(folder), "MEDIA_ROOT": str(folder / "media")}, timeout)
            _templates[key] = folder
        return _templates[key]


def _run(script: str, env: Mapping[str, str], timeout: float) -> None:
    subprocess.run([sys.executable, "-c", script], env=dict(env), cwd=ROOT, check=True, timeout=timeout)

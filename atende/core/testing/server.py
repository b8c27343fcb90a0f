"""The demo help desk served by a real ASGI server (uvicorn: HTTP and websockets) for browser tests.

Django's live server speaks only HTTP, and Channels' live-server case needs daphne, so ``demo_server`` starts
uvicorn on a free loopback port over a file SQLite database that a subprocess migrates and fills with the demo
help desk. With ``embedded_worker`` it serves as ``atende serve`` does on one machine: the task worker and the
scheduler inside the web process, tasks in the database queue, the in-memory channel layer.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from atende.core.testing.migrated import ROOT, migrated_database
from atende.core.web_server import uvicorn_options

SEED = """
from importlib import import_module
from importlib.util import find_spec
from django.apps import apps
from atende.tickets.seed.demo import load_demo
load_demo(tickets=%d)
for app in apps.get_app_configs():  # the other apps' demo hooks, as ``atende seed`` runs them
    if app.name.startswith("atende.") and app.label != "tickets":
        if find_spec(f"{app.name}.demo") is None:  # this app has no demo data
            continue
        import_module(f"{app.name}.demo").load_demo()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def query(database: Path, sql: str, *params):
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


def server_env(database: Path) -> dict[str, str]:
    """The environment of the served help desk, also for commands run against its database (``mail-import``).
    The image proxy may fetch from loopback, where tests run their image servers."""
    var = database.parent
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "atende.config.settings.test", "ATENDE_VAR_DIR": str(var),
           "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "browser-test-secret", "REDIS_URL": "",
           "MEDIA_ROOT": str(var / "media"), "IMAGE_PROXY_ALLOW_LOOPBACK": "1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextmanager
def demo_server(var: Path, *, tickets: int = 20, embedded_worker: bool = False, serve: bool = False,
                extra_env: dict[str, str] | None = None, port: int = 0,
                serve_args: Sequence[str] = ()) -> Iterator[tuple[str, Path]]:
    """(base URL, database path) of a uvicorn process serving the demo help desk; stopped on exit. ``serve``:
    started by ``atende serve`` with its defaults (uvicorn as its child, the worker and scheduler in it).
    ``port``: the port to serve on (a free one by default). ``serve_args``: more options for ``atende serve``."""
    database = var / "console.sqlite3"
    env = server_env(database) | (extra_env or {})
    if embedded_worker or serve:  # as ``atende serve``: tasks in the database queue, run by the worker inside the server
        env |= {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0", "ATENDE_EMBEDDED_WORKER": "1",
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    python = sys.executable
    migrated_database(env, seed=SEED % tickets)
    port = port or free_port()
    log = open(var / "uvicorn.log", "wb")
    command = [python, "-m", "uvicorn", "atende.config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--lifespan", "on" if embedded_worker else "off", "--no-access-log", *uvicorn_options(env)]
    if serve:
        command = [python, "-m", "atende", "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args]
        env |= {"ATENDE_EMBEDDED_WORKER": "0"}
    # A session of its own: whatever it started (serve's uvicorn, uvicorn's web processes) goes with it at the end.
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # serve: its own start-up, then uvicorn's; any: a loaded machine
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start: " + (var / "uvicorn.log").read_text()[-2000:])
                time.sleep(0.2)
        yield base, database
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)  # serve gives its web processes 10 s, then kills them
        except subprocess.TimeoutExpired:
            pass
        with suppress(ProcessLookupError):  # a loaded machine: stopping took longer, or left a child
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()

"""Serve the whole product in one command: web (HTTP + websockets), background worker and scheduler.

By default the web server is a child process (uvicorn) and this process runs the events worker and the scheduler
(threads), so the worker's subscribers use the machine's second core instead of sharing the web process's; their
pushes reach the web process's websockets through the channel layer (``atende.core.channel_layer`` on one machine,
Redis with ``REDIS_URL``). ``--embedded-worker`` keeps everything in the one web process.

``--web-processes N`` (``WEB_PROCESSES``) serves with N web processes on the one address (uvicorn's ``--workers``:
they share the listening socket, each connection lands in one of them). It needs ``REDIS_URL``: the one-machine
channel layer has a single hub, the web process holding every connection, while with Redis the layer carries a
push to whichever process holds the connection, and presence and the chat's rate limits are in Redis, shared.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from atende.core.gc_tuning import settle
from atende.core.web_server import uvicorn_options

ALL_ADDRESSES = {"0.0.0.0", "::", ""}


def site_url_for(host: str, port: str | int, environ) -> tuple[str | None, str]:
    """The ``SITE_URL`` to give the processes (None: keep the one set) and what to tell the operator.

    Links in emails need the address people open. Without ``SITE_URL`` the serving address is the best guess on
    one machine; an address that listens everywhere says nothing about the name people use, so that case gets a
    warning instead of a silent guess."""
    if environ.get("SITE_URL"):
        return None, f"Links in emails point to {environ['SITE_URL']} (SITE_URL)."
    shown = f"[{host}]" if ":" in host else host
    if host in ALL_ADDRESSES:
        url = f"http://127.0.0.1:{port}"
        return url, (f"WARNING: SITE_URL is not set and the server listens on every address: links in emails "
                     f"point to {url}, which only this machine can open. Set SITE_URL to the address people use "
                     f"(for example SITE_URL=https://help.example.com).")
    url = f"http://{shown}:{port}"
    return url, f"Links in emails point to {url} (the serving address; set SITE_URL to change it)."


class Command(BaseCommand):
    help = ("Run the web server (ASGI: HTTP and websockets) with the background worker and the scheduler. "
            "By default the web server is a process of its own and this process runs the worker and scheduler; "
            "--embedded-worker runs them inside the web process, --separate-worker as two more processes.")
    # The system checks import every URLconf, which the server process does too: they run in ``handle`` while the
    # server starts (on another core) rather than before it, and a failed check stops everything.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--embedded-worker", action="store_true",
                            help="run worker and scheduler inside the web process (one process, one core)")
        parser.add_argument("--separate-worker", action="store_true",
                            help="run worker and scheduler as processes of their own")
        parser.add_argument("--no-worker", action="store_true", help="web only")
        parser.add_argument("--web-processes", type=int, default=int(os.environ.get("WEB_PROCESSES") or 1),
                            help="web processes on the one address (more than one needs REDIS_URL)")

    def handle(self, *args, host, port, embedded_worker, separate_worker, no_worker, web_processes, **options):
        web_processes_check(web_processes, embedded=embedded_worker and not (separate_worker or no_worker))
        try:
            web_options = uvicorn_options()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        python = sys.executable
        env = dict(os.environ)
        site_url, notice = site_url_for(host, port, env)
        if site_url:
            env["SITE_URL"] = site_url
        embedded = embedded_worker and not (separate_worker or no_worker)
        here = not (embedded or separate_worker or no_worker)  # the default: worker and scheduler in this process
        env["ATENDE_EMBEDDED_WORKER"] = "1" if embedded else "0"
        commands = [[python, "-m", "uvicorn", "atende.config.asgi:application", "--host", host, "--port", str(port),
                     "--no-access-log", "--lifespan", "on" if embedded else "off", *web_options]
                    + (["--workers", str(web_processes)] if web_processes > 1 else [])]
        if separate_worker and not no_worker:
            commands.append([python, "-m", "atende", "events", "work"])
            commands.append([python, "-m", "atende", "scheduler"])
        procs = [subprocess.Popen(cmd, env=env) for cmd in commands]
        mode = ("worker and scheduler inside the web process" if embedded else
                "worker and scheduler beside the web process" if here else
                "worker and scheduler as processes" if not no_worker else "web only")
        if web_processes > 1:
            mode += f", {web_processes} web processes"
        self.stdout.write(f"Atende is serving at http://{host}:{port}/ ({mode})")
        (self.stderr if notice.startswith("WARNING") else self.stdout).write(notice)
        try:
            self.check()
        except BaseException:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=10)
            raise
        stop_event = threading.Event()
        if here:
            settle()  # the checks imported every URLconf: this process's worker and scheduler start from here
        threads = background_start(stop_event) if here else []

        def stop(*_):
            stop_event.set()
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(proc.poll() is None for proc in procs):
                time.sleep(0.5)
        finally:
            stop()
            deadline = time.time() + 10
            for proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    for child in _children(proc.pid):  # uvicorn's web processes (--workers) go with it
                        _kill(child)
                    proc.kill()
            for thread in threads:
                thread.join(timeout=max(0.1, deadline - time.time()))


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # not Linux, or gone
        return []


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def web_processes_check(count: int, *, embedded: bool) -> None:
    """More than one web process needs what they share to be in Redis (the channel layer, presence, the chat's
    rate limits), and the worker outside them (inside, each would run one)."""
    if count < 1:
        raise CommandError("--web-processes must be at least 1.")
    if count > 1 and not getattr(settings, "REDIS_URL", ""):
        raise CommandError("Several web processes need REDIS_URL: without Redis the web process is the one hub "
                           "of the channel layer and of presence.")
    if count > 1 and embedded:
        raise CommandError("--embedded-worker runs the worker inside the web process: use one web process, or "
                           "the worker beside them (the default).")


def background_start(stop_event: threading.Event) -> list[threading.Thread]:
    """The events worker (subscribers and tasks) and the scheduler as threads of this process, stopped by
    ``stop_event`` (the current batch finishes)."""
    from atende.core.outbox.worker import EventsWorker, default_worker_id
    from atende.core.scheduler import run_forever

    worker = EventsWorker(worker_id=default_worker_id("serve"), interval=0.2, stop_event=stop_event)
    threads = [threading.Thread(target=worker.run, name="events-worker", daemon=True),
               threading.Thread(target=run_forever, kwargs={"stop_event": stop_event}, name="scheduler", daemon=True)]
    for thread in threads:
        thread.start()
    return threads

"""Serve the whole product in one command: web (HTTP + websockets), worker and scheduler."""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server (ASGI: HTTP and websockets), the background worker and the scheduler together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args, host, port, no_worker, **options):
        python = sys.executable
        env = dict(os.environ)
        commands = [
            [python, "-m", "uvicorn", "atende.config.asgi:application", "--host", host, "--port", str(port),
             "--no-access-log", "--lifespan", "off"],
        ]
        if not no_worker:
            commands.append([python, "-m", "atende", "db_worker", "--queue-name", "*", "--interval", "0.5"])
            commands.append([python, "-m", "atende", "scheduler"])
        procs = [subprocess.Popen(cmd, env=env) for cmd in commands]
        self.stdout.write(f"Atende is serving at http://{host}:{port}/ (worker and scheduler running)")

        def stop(*_):
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
                    proc.kill()
        return None

"""The system under test: one uvicorn web process (HTTP + websockets) and one worker (events subscribers and
background tasks, ``atende events work``), on loopback."""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path

import httpx

from atende.core.web_server import uvicorn_options
from harness.common import HOST, PYTHON, REPO, Config, log


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 16384):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM: the process's peak resident set size since it started."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Server:
    def __init__(self, cfg: Config, *, worker: bool = True):
        self.cfg = cfg
        self.worker = worker
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: list = []

    def __enter__(self) -> Server:
        _raise_fd_limit()
        env = self.cfg.env()
        log_dir = self.cfg.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        commands = {"web": [PYTHON, "-m", "uvicorn", "atende.config.asgi:application", "--host", HOST, "--port",
                            str(self.cfg.port), "--no-access-log", "--lifespan", "off", "--log-level", "warning",
                            "--backlog", "4096", *uvicorn_options(env)]}
        if self.worker:
            commands["worker"] = [PYTHON, "-m", "atende", "events", "work", "--interval", "0.2"]
        for name, cmd in commands.items():
            out = open(log_dir / f"{name}-{self.cfg.db}-{self.cfg.tickets}.log", "w")  # noqa: SIM115
            self.logs.append(out)
            self.procs[name] = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                                preexec_fn=_raise_fd_limit)
        try:
            self._wait_ready()
        except BaseException:  # a server that never came up (or an interrupted run) leaves no process behind
            self.__exit__(None, None, None)
            raise
        log(f"server up on {self.cfg.base_url} (web pid {self.procs['web'].pid})")
        return self

    def _wait_ready(self) -> None:
        deadline = time.time() + 180  # a loaded shared machine imports slowly
        while time.time() < deadline:
            if self.procs["web"].poll() is not None:
                raise RuntimeError(f"the web process exited ({self.procs['web'].returncode}); see "
                                   f"{self.cfg.var_dir / 'logs'}")
            try:
                # One patient request: the first one imports every view, and short timeouts would pile abandoned
                # requests up behind it on the sync thread.
                if httpx.get(f"{self.cfg.base_url}/healthz", timeout=60).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the web process did not answer /healthz within 180 s")

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def peak_rss(self) -> dict[str, float | None]:
        return {name: peak_rss_mib(proc.pid) for name, proc in self.procs.items()}

    def __exit__(self, *exc) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for out in self.logs:
            out.close()

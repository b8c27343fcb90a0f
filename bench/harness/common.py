"""Shared pieces of the benchmark harness: configuration, statistics, skipping, running ``atende`` commands."""

from __future__ import annotations

import dataclasses
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO = BENCH_DIR.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
# Channel-layer groups live in Redis for a day: a prefix per run keeps a run's websockets apart from earlier ones.
CHANNEL_PREFIX = f"atende-bench-{os.getpid()}-{int(time.time())}"


class Skip(Exception):  # noqa: N818 - reads better at the raise site: raise Skip("no /api/v1/tickets yet")
    """A measurement that cannot run yet (its endpoint or command does not exist); the reason is reported."""


def log(*parts) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, flush=True)


@dataclasses.dataclass
class Config:
    tickets: int
    database_url: str
    db: str  # "sqlite" | "postgresql"
    var_dir: Path
    port: int
    requests: int
    concurrency: int
    creations: int
    mail_messages: int
    ws_clients: int
    ws_procs: int
    deep_pages: int
    only: set[str]
    skip: set[str]
    reuse: bool
    results_dir: Path
    drain_seconds: float

    @classmethod
    def from_env(cls, **overrides) -> Config:
        env = os.environ
        tickets = int(overrides.get("tickets") or env.get("BENCH_TICKETS", 10_000))
        var_dir = Path(env.get("BENCH_VAR_DIR", BENCH_DIR / "var"))
        url = overrides.get("database_url") or env.get("DATABASE_URL") or ""
        if not url:
            url = f"sqlite:///{var_dir / f'atende-{tickets}.sqlite3'}"
        db = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
        words = lambda name: {w for w in env.get(name, "").replace(" ", ",").split(",") if w}  # noqa: E731
        return cls(
            tickets=tickets, database_url=url, db=db, var_dir=var_dir,
            port=int(env.get("BENCH_PORT", 8765)),
            requests=int(env.get("BENCH_REQUESTS", 200)),
            concurrency=int(env.get("BENCH_CONCURRENCY", 8)),
            creations=int(env.get("BENCH_CREATIONS", 400)),
            mail_messages=int(env.get("BENCH_MAIL_MESSAGES", 300)),
            ws_clients=int(env.get("BENCH_WS_CLIENTS", 1000)),
            ws_procs=int(env.get("BENCH_WS_PROCS", 4)),
            deep_pages=int(env.get("BENCH_DEEP_PAGES", 20)),
            only=words("BENCH_ONLY"), skip=words("BENCH_SKIP"),
            reuse=env.get("BENCH_REUSE", "") not in ("", "0"),
            results_dir=Path(env.get("BENCH_RESULTS_DIR", BENCH_DIR / "results")),
            drain_seconds=float(env.get("BENCH_DRAIN_SECONDS", 1800)),
        )

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pg_name(self) -> str:
        return urlparse(self.database_url).path.lstrip("/")

    def wanted(self, name: str) -> bool:
        """BENCH_ONLY / BENCH_SKIP select measurements by name prefix (e.g. ``reads``, ``writes.api``)."""
        if any(name.startswith(s) for s in self.skip):
            return False
        return not self.only or any(name.startswith(o) for o in self.only)

    def env(self) -> dict[str, str]:
        """The environment of every Atende process the harness starts (server, worker, commands)."""
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "settings_bench",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), str(REPO), env.get("PYTHONPATH", "")])),
            "DATABASE_URL": self.database_url,
            "ATENDE_VAR_DIR": str(self.var_dir / "state"),
            "DEBUG": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0", "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": HOST, "SITE_URL": self.base_url, "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "BENCH_REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            "BENCH_CHANNEL_PREFIX": CHANNEL_PREFIX,
            # The peak run's webhook receiver listens on loopback, which outbound requests refuse otherwise.
            "IMAGE_PROXY_ALLOW_LOOPBACK": "1",
            # One token drives the peak (6,000 requests a minute): the per-token limit (600/min by default) would
            # answer most of them 429. BENCH_API_RATE_LIMIT sets it; 0 is unlimited.
            "API_RATE_LIMIT": os.environ.get("BENCH_API_RATE_LIMIT", "0"),
        })
        return env


def atende(cfg: Config, *args: str, timeout: float = 7200, stdin: bytes | None = None
           ) -> subprocess.CompletedProcess:
    """Run ``python -m atende <args>`` with the bench environment; raises with its output when it fails."""
    proc = subprocess.run([PYTHON, "-m", "atende", *args], env=cfg.env(), cwd=REPO, capture_output=True,
                          timeout=timeout, input=stdin)
    if proc.returncode != 0:
        err = (proc.stderr or b"").decode(errors="replace")
        if "Unknown command" in err:
            raise Skip(f"`atende {args[0]}` does not exist yet")
        raise RuntimeError(f"atende {' '.join(args[:3])} failed ({proc.returncode}):\n{err[-3000:]}")
    return proc


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None if it is gone: what work cost the server,
    which a loaded machine does not inflate the way it inflates wall-clock latency."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (the same definition the peer's script uses)."""
    data = sorted(values)
    if not data:
        return None
    k = (len(data) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary(ms: list[float]) -> dict[str, float | int | None]:
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50": round(percentile(ms, 0.50), 2), "p95": round(percentile(ms, 0.95), 2),
            "p99": round(percentile(ms, 0.99), 2), "mean": round(statistics.fmean(ms), 2),
            "max": round(max(ms), 2)}


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                           if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kib = 0
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kib / 2**20, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0]}


def now_iso() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")

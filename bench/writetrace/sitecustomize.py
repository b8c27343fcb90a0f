"""Trace of the SQLite write path during a benchmark, one JSON line per record (``bench/writetrace/summary.py``
sums them up).

    PYTHONPATH=bench/writetrace WTRACE_DIR=/tmp/trace BENCH_ONLY=writes.e2e ... .venv/bin/python bench/run.py

Loaded by Python at start-up (``sitecustomize``) in the benchmark process (the ticket creator) and in the worker
(``atende events work``), and in the web server (its ticket creations); other processes are left alone. It wraps, as their modules are imported: the writers'
lock (time waiting for a turn, time holding it), ``COMMIT``, each dispatcher batch (subscriber, events handed to
it, time in its handler, and the time after the lock was given back: the on-commit work), the worker's passes,
waits and task runs, and ``ticket_create``. Nothing of it is part of the product.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import json
import os
import sys
import threading
import time

OUT = os.environ.get("WTRACE_DIR")
if "events" in sys.argv and "work" in sys.argv:
    ROLE = "worker"
elif sys.argv and sys.argv[0].endswith("run.py"):
    ROLE = "creator"
elif any("atende.config.asgi" in arg for arg in sys.argv):
    ROLE = "web"  # the API's ticket creations: their turns of the lock, waited for and held
else:
    ROLE = None

_buf: list[dict] = []
_lock = threading.Lock()
_tl = threading.local()


def rec(**kw) -> None:
    kw["t"] = time.time()
    with _lock:
        _buf.append(kw)


def _flush(out) -> None:
    with _lock:
        lines, _buf[:] = list(_buf), []
    if lines:
        out.write("".join(json.dumps(r) + "\n" for r in lines))
        out.flush()


def acc(key: str, value: float) -> None:
    d = getattr(_tl, "acc", None)
    if d is not None:
        d[key] = d.get(key, 0.0) + value


def patch_writers(m) -> None:
    turns = m.WriterTurns
    acquire_, release_ = turns.acquire, turns.release

    def acquire(self, timeout):
        t0 = time.perf_counter()
        result = acquire_(self, timeout)
        _tl.held_at = time.perf_counter()
        _tl.held_cpu_at = time.thread_time()
        acc("lock_wait", _tl.held_at - t0)
        acc("turns", 1)
        return result

    def release(self, fd, held=True):
        at = getattr(_tl, "held_at", None)
        if at is not None:
            now = time.perf_counter()
            acc("held", now - at)
            acc("held_cpu", time.thread_time() - _tl.held_cpu_at)
            _tl.held_at = None
            d = getattr(_tl, "acc", None)
            if d is not None:
                d["last_release"] = now
        return release_(self, fd, held)

    turns.acquire, turns.release = acquire, release


def patch_base(m) -> None:
    commit_ = m.DatabaseWrapper._commit

    def _commit(self):
        t0 = time.perf_counter()
        try:
            return commit_(self)
        finally:
            acc("commit", time.perf_counter() - t0)
            acc("commits", 1)

    m.DatabaseWrapper._commit = _commit


def _timed(name: str, fn):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            rec(k=name, d=time.perf_counter() - t0)
    return wrapper


def patch_dispatch(m) -> None:
    batch_step_, resolve_ = m.batch_step, m.resolve

    def batch_step(unit, owner, **kwargs):
        _tl.acc = {}
        t0 = time.perf_counter()
        try:
            return batch_step_(unit, owner, **kwargs)
        finally:
            a, _tl.acc = _tl.acc, None
            end = time.perf_counter()
            if "last_release" in a:
                a["after_commit"] = end - a.pop("last_release")
            rec(k="batch", s=unit.subscriber.name, d=end - t0, **a)

    def resolve(path):
        fn = resolve_(path)

        def handler(batch):
            t0 = time.perf_counter()
            try:
                return fn(batch)
            finally:
                acc("handler", time.perf_counter() - t0)
                acc("h:" + path.rsplit(".", 1)[-1], time.perf_counter() - t0)
                acc("n", len(batch))
        return handler

    m.batch_step, m.resolve = batch_step, resolve
    for name in ("lease_claim", "run_retries"):
        setattr(m, name, _timed(name, getattr(m, name)))


def patch_worker(m) -> None:
    worker = m.EventsWorker
    tick_, wait_, tasks_ = worker.tick, worker.wait_for_change, m.tasks_run_due

    def tick(self):
        _tl.acc = {}
        t0 = time.perf_counter()
        c0 = time.thread_time()
        done = tick_(self)
        a, _tl.acc = _tl.acc, None
        a.pop("last_release", None)
        rec(k="tick", d=time.perf_counter() - t0, cpu=time.thread_time() - c0, done=done, **a)
        return done

    def wait_for_change(self, seconds):
        t0 = time.perf_counter()
        woke = wait_(self, seconds)
        rec(k="wait", d=time.perf_counter() - t0, woke=woke)
        return woke

    def tasks_run_due(*args, **kwargs):
        outer, _tl.acc = getattr(_tl, "acc", None), {}
        t0 = time.perf_counter()
        ran = tasks_(*args, **kwargs)
        a, _tl.acc = _tl.acc, outer
        a.pop("last_release", None)
        rec(k="tasks", d=time.perf_counter() - t0, ran=ran, **a)
        return ran

    worker.tick, worker.wait_for_change, m.tasks_run_due = tick, wait_for_change, tasks_run_due


def patch_create(m) -> None:
    create_ = m.ticket_create

    def ticket_create(*args, **kwargs):
        _tl.acc = {}
        t0 = time.perf_counter()
        c0 = time.thread_time()
        try:
            return create_(*args, **kwargs)
        finally:
            a, _tl.acc = _tl.acc, None
            a.pop("last_release", None)
            rec(k="create", d=time.perf_counter() - t0, cpu=time.thread_time() - c0, **a)

    m.ticket_create = ticket_create


PATCHES = {"atende.core.sqlite_pool.writers": patch_writers, "atende.core.sqlite_pool.base": patch_base,
           "atende.core.outbox.dispatch": patch_dispatch, "atende.core.outbox.worker": patch_worker,
           "atende.tickets.services": patch_create}


class _Finder(importlib.abc.MetaPathFinder):
    """Runs the patch of a module right after the module itself ran."""

    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def run_then_patch(module):
            exec_module(module)
            PATCHES[name](module)

        spec.loader.exec_module = run_then_patch
        return spec


def _start() -> None:
    out = open(os.path.join(OUT, f"{ROLE}-{os.getpid()}.jsonl"), "a")  # noqa: SIM115 - open for the process

    def every_second():
        while True:
            time.sleep(1)
            _flush(out)

    threading.Thread(target=every_second, daemon=True).start()
    atexit.register(_flush, out)
    sys.meta_path.insert(0, _Finder())


if OUT and ROLE:
    _start()

if ROLE and os.environ.get("WTRACE_SWITCH_INTERVAL"):
    sys.setswitchinterval(float(os.environ["WTRACE_SWITCH_INTERVAL"]))  # an experiment's GIL slice

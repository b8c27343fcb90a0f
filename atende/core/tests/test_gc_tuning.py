"""Long-running processes leave what start-up loaded out of later garbage collections (``gc.freeze``) and collect
the young generation less often; ``GC_TUNING=0`` keeps the interpreter's defaults."""

import gc
import json
import os
import subprocess
import sys

import pytest

from atende.core import gc_tuning


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settle_freezes_what_is_loaded_and_raises_the_young_threshold(restored_gc, monkeypatch):
    monkeypatch.delenv("GC_TUNING", raising=False)
    before = gc.get_freeze_count()
    kept = [[i] for i in range(1000)]  # tracked containers alive at the call
    assert gc_tuning.settle() is True
    assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
    assert not any(gc.is_finalized(item) for item in kept)  # frozen, not collected: still the same objects


@pytest.mark.parametrize("value", ["0", "off", "false", "NO"])
def test_gc_tuning_off_keeps_the_defaults(restored_gc, monkeypatch, value):
    monkeypatch.setenv("GC_TUNING", value)
    gc.set_threshold(700, 10, 10)
    before = gc.get_freeze_count()
    assert gc_tuning.settle() is False
    assert gc.get_freeze_count() == before
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize(("environ", "settled"), [({}, True), ({"GC_TUNING": "0"}, False)])
def test_the_web_process_starts_settled(environ, settled):
    """What the web server imports: the application module leaves Django, every URLconf and view frozen."""
    script = ("import gc, json, sys; import atende.config.asgi; "
              "print(json.dumps([gc.get_freeze_count(), gc.get_threshold()[0], "
              "'atende.console.views' in sys.modules]))")
    env = {k: v for k, v in os.environ.items() if k != "GC_TUNING"} | environ
    env["DJANGO_SETTINGS_MODULE"] = "atende.config.settings.test"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    frozen, young, views_loaded = json.loads(out.splitlines()[-1])
    assert views_loaded  # imported before the freeze, not by the first request
    assert (frozen > 100_000) is settled
    assert young == (gc_tuning.YOUNG_THRESHOLD if settled else 700)  # 700: CPython's own


@pytest.mark.parametrize("environ", [{}, {"GC_TUNING": "0"}])
def test_the_worker_starts_with_every_view_loaded(environ):
    """``atende events work`` calls ``settle()`` after Django's set-up: the URLconf is loaded there (frozen with
    the rest when tuning is on), not by the first mail or push that reverses a URL."""
    script = ("import json, sys, django; django.setup(); from atende.core.gc_tuning import settle; "
              "before = 'atende.console.views' in sys.modules; settle(); "
              "print(json.dumps([before, 'atende.console.views' in sys.modules, "
              "'atende.signin.views.sso' in sys.modules]))")
    env = {k: v for k, v in os.environ.items() if k != "GC_TUNING"} | environ
    env["DJANGO_SETTINGS_MODULE"] = "atende.config.settings.test"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == [False, True, True]

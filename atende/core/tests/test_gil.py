"""Long-running processes take the interpreter's switch interval from ``GIL_SWITCH_INTERVAL_MS`` (default 0.5 ms):
request threads coming back from the database wait for a turn at most that long."""

import json
import os
import subprocess
import sys

import pytest

from atende.core import gil


@pytest.fixture
def restored_interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize(("value", "seconds"), [(None, 0.0005), ("", 0.0005), ("2", 0.002), (" 0.25 ", 0.00025)])
def test_the_interval_comes_from_the_environment(restored_interval, monkeypatch, value, seconds):
    if value is None:
        monkeypatch.delenv("GIL_SWITCH_INTERVAL_MS", raising=False)
    else:
        monkeypatch.setenv("GIL_SWITCH_INTERVAL_MS", value)
    assert gil.tune() == pytest.approx(seconds)
    assert sys.getswitchinterval() == pytest.approx(seconds)


def test_zero_keeps_the_interpreters_interval(restored_interval, monkeypatch):
    sys.setswitchinterval(0.005)
    monkeypatch.setenv("GIL_SWITCH_INTERVAL_MS", "0")
    assert gil.tune() == pytest.approx(0.005)


@pytest.mark.parametrize("value", ["fast", "-1", "1ms"])
def test_a_value_that_is_not_a_number_of_milliseconds_stops_the_process(restored_interval, monkeypatch, value):
    monkeypatch.setenv("GIL_SWITCH_INTERVAL_MS", value)
    with pytest.raises(ValueError, match="GIL_SWITCH_INTERVAL_MS"):
        gil.tune()


@pytest.mark.parametrize(("environ", "seconds"), [({}, 0.0005), ({"GIL_SWITCH_INTERVAL_MS": "0"}, 0.005)])
def test_the_web_process_starts_with_the_interval(environ, seconds):
    """What the web server imports sets it (``gc_tuning.settle``), whatever ``GC_TUNING`` says."""
    script = "import json, sys; import atende.config.asgi; print(json.dumps(sys.getswitchinterval()))"
    env = {k: v for k, v in os.environ.items() if k != "GIL_SWITCH_INTERVAL_MS"} | environ | {"GC_TUNING": "0"}
    env["DJANGO_SETTINGS_MODULE"] = "atende.config.settings.test"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == pytest.approx(seconds)

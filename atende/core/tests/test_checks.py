"""The start-up check refuses to start when a periodic job or an event subscriber cannot be imported, naming the
path and the cause; on the real configuration it passes. The web application imports every view as it starts."""

import subprocess
import sys

import pytest
from django.core.checks import run_checks

from atende.core import checks, events, scheduler


def _our_errors():
    return [e for e in run_checks() if e.id in ("atende.E001", "atende.E002")]


def test_the_real_jobs_and_subscribers_all_import():
    assert checks.periodic_job_paths() == list(scheduler.PERIODIC_TASKS)
    assert "atende.integrations.subscribers.webhooks_on_events" in checks.all_subscriber_paths()
    assert _our_errors() == []


@pytest.mark.parametrize("path", [
    "atende.nowhere.tasks.job_task",            # missing module
    "atende.tickets.tasks.no_such_task",        # missing attribute
    "not_installed_dependency.sender.deliver",  # missing third-party package
])
def test_an_unimportable_periodic_job_is_an_error(monkeypatch, path):
    monkeypatch.setitem(scheduler.PERIODIC_TASKS, path, 60)
    errors = _our_errors()
    assert [e.id for e in errors] == ["atende.E001"]
    assert path in errors[0].msg and "cannot be imported" in errors[0].msg
    assert errors[0].is_serious()


@pytest.mark.parametrize("table", ["SUBSCRIBERS", "ON_COMMIT_HANDLERS"])
def test_an_unimportable_event_subscriber_is_an_error(monkeypatch, table):
    path = "atende.integrations.sender_that_is_gone.on_event"
    if table == "SUBSCRIBERS":
        monkeypatch.setattr(events, table, (*events.SUBSCRIBERS, events.Subscriber("gone", path)))
    else:
        monkeypatch.setattr(events, table, (*events.ON_COMMIT_HANDLERS, path))
    errors = _our_errors()
    assert [e.id for e in errors] == ["atende.E002"]
    assert path in errors[0].msg
    assert "No module named 'atende.integrations.sender_that_is_gone'" in errors[0].msg


def test_commands_refuse_to_start_on_a_broken_path(tmp_path):
    """``migrate`` (like ``serve``) runs the checks first and stops with the path in its message."""
    code = ("import sys, django; django.setup();"
            "from atende.core import scheduler; scheduler.PERIODIC_TASKS['atende.gone.tasks.job_task'] = 60;"
            "from django.core.management import execute_from_command_line;"
            "execute_from_command_line(['atende', 'migrate', '--check', '-v', '0'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"DJANGO_SETTINGS_MODULE": "atende.config.settings.test", "PATH": "/usr/bin:/bin",
                                 "ATENDE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "atende.E001" in result.stderr and "atende.gone.tasks.job_task" in result.stderr


def test_an_unimportable_channel_layer_is_an_error(settings):
    path = "atende.core.layer_that_is_gone.Layer"
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS, "extra": {"BACKEND": path}}
    errors = [e for e in run_checks() if e.id == "atende.E004"]
    assert len(errors) == 1 and path in errors[0].msg and errors[0].is_serious()


def test_the_real_channel_layers_import():
    from atende.config.settings import base

    assert checks.unimportable([c["BACKEND"] for c in base.CHANNEL_LAYERS.values()], kind="x", check_id="x") == []
    assert [e for e in run_checks() if e.id == "atende.E004"] == []


def _load_asgi_application(tmp_path, settings_module="atende.config.settings.test", extra_path=""):
    code = ("import sys; import atende.config.asgi;"
            "print(sorted(m for m in ('atende.config.urls', 'atende.triage.views', 'atende.signin.views.sso')"
            " if m in sys.modules))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"DJANGO_SETTINGS_MODULE": settings_module, "PATH": "/usr/bin:/bin",
                               "ATENDE_VAR_DIR": str(tmp_path), "PYTHONPATH": extra_path})


def test_the_web_application_imports_every_view_when_it_starts(tmp_path):
    """Not on the first request: that visitor would wait seconds, and a broken view would pass start-up."""
    result = _load_asgi_application(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['atende.config.urls', 'atende.signin.views.sso', 'atende.triage.views']"


def test_the_web_application_refuses_to_start_on_a_view_that_cannot_be_imported(tmp_path):
    (tmp_path / "broken_urls.py").write_text("import not_installed_dependency  # noqa\nurlpatterns = []\n")
    (tmp_path / "broken_settings.py").write_text(
        "from atende.config.settings.test import *  # noqa\nROOT_URLCONF = 'broken_urls'\n")
    result = _load_asgi_application(tmp_path, "broken_settings", str(tmp_path))
    assert result.returncode != 0
    assert "No module named 'not_installed_dependency'" in result.stderr

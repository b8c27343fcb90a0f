"""The ``atende`` command wraps Django's management commands; production settings are its safe default."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    environment.update({"ATENDE_VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": secrets.token_urlsafe(50), **env})
    return subprocess.run(args, capture_output=True, text=True, env=environment, timeout=120, cwd=tmp_path)


def _atende():
    script = BIN / "atende"
    if not script.exists():
        pytest.skip("the project is not installed in this environment (`make install` creates bin/atende)")
    return str(script)


def test_atende_check_runs(tmp_path):
    result = _run([_atende(), "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_pass_the_deploy_checks(tmp_path):
    result = _run([_atende(), "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_dash_m_atende_migrates_and_runs_shell(tmp_path):
    db = tmp_path / "cli.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "atende.config.settings.dev"}
    migrate = _run([sys.executable, "-m", "atende", "migrate", "--noinput", "-v", "0"], tmp_path, **env)
    assert migrate.returncode == 0, migrate.stderr
    shell = _run([sys.executable, "-m", "atende", "shell", "-v", "0", "-c",
                  "from django.db import connection; c = connection.cursor(); "
                  "print(c.execute('PRAGMA journal_mode').fetchone()[0]); "
                  "from atende.tickets.models import Ticket; print(Ticket.objects.count())"], tmp_path, **env)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split() == ["wal", "0"]  # SQLite in WAL mode


def test_secret_key_is_generated_once_into_var(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env["ATENDE_VAR_DIR"] = str(tmp_path / "var")
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    args = [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
                                  f"'atende.config.settings.dev'; django.setup(); {code}"]
    first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "var" / "secret_key"
    assert first.stdout == second.stdout and first.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50 and oct(key_file.stat().st_mode)[-3:] == "600"

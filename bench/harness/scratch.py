"""A scratch copy of a benchmark SQLite database with Django set up on it, for the in-process cost scripts
(``subscriber_costs.py``, ``routing_costs.py``): what they change never reaches the benchmark's own database."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def django_on_copy(db: str, *, prefix: str) -> Path:
    """Copy ``db`` into a new scratch directory, point Django's settings at the copy and set Django up; returns
    the directory."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copy(db, work / "db.sqlite3")
    os.environ.update({"DJANGO_SETTINGS_MODULE": "atende.config.settings.prod", "SECRET_KEY": "bench",
                       "ALLOWED_HOSTS": "localhost", "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
                       "ATENDE_VAR_DIR": str(work / "state"), "LOG_LEVEL": "WARNING",
                       "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"})
    import django

    django.setup()
    return work

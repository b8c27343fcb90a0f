import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def core_urls(settings):
    """Serve only the core URLs, so these view tests do not depend on other apps' pages."""
    settings.ROOT_URLCONF = "atende.core.testing.urls"


@pytest.fixture
def workdir():
    """The processes' files (SQLite database, logs, var dir) in a directory of the test's own: pytest keeps only its
    last three base directories per user, so other pytest runs on the same machine could remove ``tmp_path``
    under running processes."""
    path = Path(tempfile.mkdtemp(prefix="atende-processes-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)

import pytest


@pytest.fixture
def core_urls(settings):
    """Serve only the core URLs, so these view tests do not depend on other apps' pages."""
    settings.ROOT_URLCONF = "atende.core.testing.urls"

import pytest

from atende.chat.models import Widget
from atende.chat.tokens import visitor_id_new
from atende.kb.tests.factories import make_article, make_section


@pytest.fixture
def widget(db, team):
    return Widget.objects.create(name="Site", team=team, allowed_origins="https://shop.example\nhttp://127.0.0.2:8123")


@pytest.fixture
def article(db):
    return make_article(section=make_section(), title="Reset your password",
                        body="Open Settings and choose Reset password to get a reset link by email.")


@pytest.fixture
def visitor_id():
    return visitor_id_new()


@pytest.fixture
def online(settings):
    """Mark agents online and connected to the console (presence as the agent socket records it)."""
    from atende.accounts.choices import Availability
    from atende.chat import realtime

    def make(*agents):
        for agent in agents:
            agent.availability = Availability.ONLINE
            agent.save(update_fields=["availability"])
            realtime.presence_touch("agent", agent.pk, f"test-channel-{agent.pk}")

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import caches

    caches["default"].clear()
    caches["presence"].clear()


@pytest.fixture
def quiet(settings, agent):
    """Events stay for the worker (no subscriber commits in between); the agent may hold many chats."""
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.CHAT_DEFAULT_MAX_CHATS = 50

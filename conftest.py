"""Fixtures shared by every app's tests: people, teams and a ticket, built with factories and services."""

import contextlib
import glob
import os

import pytest

from atende.accounts.tests.factories import (
    AdminFactory,
    AgentFactory,
    CollaboratorFactory,
    CustomerFactory,
    OrganizationFactory,
    TeamFactory,
)
from atende.core.actor import Actor
from atende.tickets.tests.factories import make_ticket

pytest_plugins = ["atende.core.testing.browser", "atende.core.testing.events"]

SHARED_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared", "data")


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (CI does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
    # Browser tests run last: Playwright's sync API leaves an event loop registered on the main thread for the rest
    # of the session, which would make later tests' ``async_to_sync`` calls fail.
    browser_fixtures = {"page", "new_page", "browser", "_playwright"}
    items.sort(key=lambda item: bool(browser_fixtures & set(getattr(item, "fixturenames", ()))))


def pytest_sessionfinish(session, exitstatus):
    """Django removes a file test database but not the files beside it (WAL, shared memory, the writers' lock)."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        for companion in glob.glob(glob.escape(name) + "-*"):  # -wal, -shm, -journal, the writers' files
            with contextlib.suppress(FileNotFoundError):
                os.remove(companion)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language. A request leaves the language its middleware chose active
    in the thread (Django does not undo it), so without this a test's outcome would depend on which test ran before
    it in the same worker."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_branding():
    """Each test starts without the process's in-memory copy of the branding (core.selectors.site_branding)."""
    from atende.core.selectors import site_branding_forget

    site_branding_forget()


@pytest.fixture(autouse=True)
def _fresh_generations():
    """Each test starts without the process's copies of rarely changed rows (core.generations): a test's rows
    are rolled back without a commit, which is what replaces their token."""
    from atende.core.generations import forget

    forget()


@pytest.fixture
def shared_data_dir():
    path = os.path.normpath(SHARED_DATA)
    if not os.path.isdir(path):
        pytest.skip(f"shared test data not found at {path}")
    return path


@pytest.fixture
def organization(db):
    return OrganizationFactory()


@pytest.fixture
def team(db):
    return TeamFactory()


@pytest.fixture
def customer(db, organization):
    return CustomerFactory(organization=organization)


@pytest.fixture
def other_customer(db):
    return CustomerFactory()


@pytest.fixture
def agent(db, team):
    user = AgentFactory()
    team.members.add(user)
    return user


@pytest.fixture
def other_agent(db, team):
    user = AgentFactory()
    team.members.add(user)
    return user


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def collaborator(db, team):
    user = CollaboratorFactory()
    team.members.add(user)
    return user


@pytest.fixture
def agent_actor(agent):
    return Actor.for_user(agent)


@pytest.fixture
def customer_actor(customer):
    return Actor.for_user(customer)


@pytest.fixture
def ticket(db, customer, team):
    return make_ticket(requester=customer, team=None, actor=Actor.for_user(customer))


@pytest.fixture
def team_ticket(db, customer, team, agent):
    """A ticket in ``team`` (created by the agent on the customer's behalf)."""
    return make_ticket(requester=customer, actor=Actor.for_user(agent), team=team)

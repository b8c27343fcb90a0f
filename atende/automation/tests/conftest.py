import pytest

from atende.core.actor import Actor
from atende.email_channel.tests.servers import smtp_capture  # noqa: F401 - real SMTP server (aiosmtpd)
from atende.integrations.tests.conftest import receiver  # noqa: F401 - real HTTP receiver on loopback
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def run_events(django_capture_on_commit_callbacks):
    """Deliver events (and the tasks they enqueue) as the real on-commit hooks would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def create_ticket(run_events, customer):
    def create(**kwargs):
        kwargs.setdefault("requester", customer)
        staff_only = {"team", "assignee", "priority", "status"} & set(kwargs)
        kwargs.setdefault("actor", Actor.system() if staff_only else Actor.for_user(kwargs["requester"]))
        with run_events():
            ticket = make_ticket(**kwargs)
        ticket.refresh_from_db()
        return ticket
    return create

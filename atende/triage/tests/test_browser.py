"""End to end in headless Chromium: an agent opens a new ticket, sees the model's suggestions in the sidebar and
applies the suggested team in one click; the side panel and the history follow."""

import pytest

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.tickets.models import Ticket
from atende.tickets.tests.factories import make_ticket
from atende.triage.models import AppliedBy, Prediction
from atende.triage.services import triage_train

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_agent_applies_a_suggested_team_in_one_click(live_server, page, desk):
    triage_train(actor=Actor.system())
    customer = CustomerFactory()
    ticket = make_ticket(requester=customer, actor=Actor.for_user(customer), subject="Charged twice on my card",
                         body="Hello, I was charged twice on my card this morning.")
    assert Prediction.objects.filter(ticket=ticket, field="team").exists()  # the subscriber ran on commit
    agent = desk["agent"]

    page.goto(f"{live_server.url}/accounts/login/?next=/console/tickets/{ticket.number}/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/console/tickets/{ticket.number}/")

    suggestion = page.locator('#ticket-triage [data-suggestion="team"]')
    suggestion.wait_for()
    assert "Billing" in suggestion.inner_text()
    suggestion.get_by_role("button", name="Apply").click()
    page.locator('#ticket-triage [data-suggestion="team"]', has_text="applied").wait_for()

    ticket.refresh_from_db()
    assert ticket.team == desk["teams"]["Billing"]
    assert Prediction.objects.get(ticket=ticket, field="team").applied_by == AppliedBy.AGENT
    page.locator("#ticket-timeline", has_text="triage model v1").wait_for()  # the history names the model
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version

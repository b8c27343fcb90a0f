"""End to end in headless Chromium: an agent logs in, opens a queue, bulk-assigns two tickets and searches.

Named to run after test_realtime.py: Playwright's sync API leaves an asyncio loop marked running in the main
thread for the rest of the session, which breaks later tests that call ``async_to_sync``.
"""

import pytest

from atende.accounts.tests.factories import AgentFactory
from atende.core.actor import Actor
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_agent_bulk_assigns_from_a_queue_and_searches(live_server, page, team, customer):
    agent = AgentFactory(email="lists.agent@support.example", name="Lia Agent")
    colleague = AgentFactory(name="Caio Colleague")
    team.members.add(agent, colleague)
    actor = Actor.for_user(agent)
    # Created after commit with events delivered: the search index is filled by the events, as in production.
    first = make_ticket(actor=actor, requester=customer, team=team, subject="Router keeps rebooting",
                        body="The capybara router reboots every hour")
    second = make_ticket(actor=actor, requester=customer, team=team, subject="Invoice address wrong")
    untouched = make_ticket(actor=actor, requester=customer, team=team, subject="Feature idea")

    page.goto(f"{live_server.url}/accounts/login/?next=/console/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/**")

    page.get_by_role("navigation", name="Queues and views").get_by_role("link", name="All open").click()
    page.wait_for_url("**view=all_open**")
    assert page.get_by_role("heading", level=1).inner_text() == "All open"
    # live counts arrive over htmx once the page has loaded
    page.locator('[data-queue-count="all_open"]').wait_for()
    assert page.locator('[data-queue-count="all_open"]').inner_text().startswith("3")

    page.get_by_label(f"Select ticket #{first.number}").check()
    page.get_by_label(f"Select ticket #{second.number}").check()
    page.get_by_label("Action").select_option("assign")
    assert page.get_by_label("Status").is_hidden()  # only the fields the chosen action needs are shown
    page.get_by_label("Agent").select_option(label="Caio Colleague")
    page.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("2 tickets updated").wait_for()

    assert set(Ticket.objects.filter(assignee=colleague).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Ticket.objects.get(pk=untouched.pk).assignee is None
    assert TicketEvent.objects.filter(type="ASSIGNEE_CHANGED", ticket__in=[first, second]).count() == 2

    # a change made elsewhere arrives as the realtime client's DOM event: the list and the counts refresh
    newcomer = make_ticket(actor=actor, requester=customer, team=team, subject="Arrived while watching")
    page.evaluate("""n => document.body.dispatchEvent(new CustomEvent('atende:ticket-changed',
        {detail: {ticket_id: n, number: n, version: 1, event_type: 'TICKET_CREATED', status: 'new'}}))""",
                  newcomer.number)
    page.get_by_role("link", name="Arrived while watching").wait_for()
    page.locator('[data-queue-count="all_open"]', has_text="4").wait_for()

    page.get_by_role("searchbox", name="Search tickets").fill("capybara status:new")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/search?q=**")
    result = page.locator(".search-hit").first
    assert f"#{first.number}" in result.inner_text()
    assert result.locator("mark").first.inner_text().lower() == "capybara"
    assert page.locator(".search-hit").count() == 1

    # a phone-sized screen keeps the list usable: rows become cards
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/console/?view=all_open")
    assert page.locator("table.ticket-list thead").bounding_box()["x"] < 0

"""End to end in headless Chromium: an admin creates a trigger in the settings page, a customer's new ticket is
changed by it, the admin tests the rule against that ticket, and an agent applies a macro in one click."""

import json

import pytest
from playwright.sync_api import expect

from atende.accounts.tests.factories import AdminFactory
from atende.automation.services.definitions import canned_reply_save, macro_save
from atende.core.actor import Actor
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_admin_creates_a_trigger_that_acts_on_a_new_ticket(live_server, page, customer, team):
    admin = AdminFactory(email="rules.admin@support.example")
    team.members.add(admin)
    page.goto(f"{live_server.url}/accounts/login/?next=/console/automation/triggers/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/automation/triggers/")

    page.get_by_role("link", name="New trigger").click()
    page.get_by_label("Name").fill("Outages are urgent")
    page.get_by_label("Ticket created").check()
    for _ in range(2):  # conditions, then actions: the power users' way in (a clicked toggle reads "Edit visually")
        page.get_by_role("button", name="Edit as JSON").first.click()
    page.get_by_role("textbox", name="Conditions").fill(json.dumps(
        {"any": [{"field": "subject", "op": "contains_any_words", "value": "outage down"}]}))
    page.get_by_role("textbox", name="Actions").fill(json.dumps([{"type": "set_priority", "value": "urgentt"}]))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-errors")).to_contain_text("“urgentt” is not a valid priority")  # refused, explained
    page.get_by_role("textbox", name="Actions").fill(json.dumps([{"type": "set_priority", "value": "urgent"},
                                                  {"type": "add_tags", "value": ["outage"]}]))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/console/automation/triggers/")
    assert page.get_by_role("link", name="Outages are urgent").is_visible()

    ticket = make_ticket(requester=customer, actor=Actor.for_user(customer), subject="Checkout is down",
                         body="Nobody can pay")
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert list(ticket.tags.values_list("name", flat=True)) == ["outage"]
    assert TicketEvent.objects.filter(ticket=ticket, type="PRIORITY_CHANGED", actor_kind="automation").exists()
    calm = make_ticket(requester=customer, actor=Actor.for_user(customer), subject="Question about invoices")

    page.get_by_role("link", name="Test").click()
    page.get_by_label("Ticket #").fill(str(calm.number))
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#preview-result")).to_contain_text(f"Does not match ticket #{calm.number}")
    page.get_by_label("Ticket #").fill(str(ticket.number))
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#preview-result")).to_contain_text(f"Matches ticket #{ticket.number}")


@pytest.mark.django_db(transaction=True)
def test_agent_inserts_a_canned_reply_and_applies_a_macro(live_server, page, customer, team, agent):
    admin = AdminFactory()
    canned_reply_save(user=admin, title="Greeting", body="Olá {{requester.first_name}}, recebemos #{{ticket.number}}.")
    canned_reply_save(user=admin, title="Refund steps", body="Refunds take five working days.")
    macro_save(user=admin, name="Needs more info", actions=[{"type": "set_status", "value": "pending"},
                                                            {"type": "add_tags", "value": ["needs-info"]}],
               reply_text="Could you send a screenshot, {{requester.first_name}}?")
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject="App crashes")
    page.goto(f"{live_server.url}/accounts/login/?next=/console/tickets/{ticket.number}/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/console/tickets/{ticket.number}/")

    picker = page.get_by_placeholder("Search canned replies")
    picker.click()  # focus lists every reply; typing narrows the list to the matches
    page.get_by_role("button", name="Refund steps").wait_for()
    picker.fill("greet")
    page.get_by_role("button", name="Refund steps").wait_for(state="detached")
    page.get_by_role("button", name="Greeting").click()
    body = page.locator("textarea[name=body]")
    assert body.input_value() == f"Olá {customer.first_name}, recebemos #{ticket.number}."

    page.get_by_role("button", name="Needs more info").click()
    page.locator("#ws-status", has_text="Pending").wait_for()  # the macro's outcome, not a guess at network idle
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert "needs-info" in set(ticket.tags.values_list("name", flat=True))
    assert Ticket.objects.get(pk=ticket.pk).messages.filter(
        kind="reply", body_text=f"Could you send a screenshot, {customer.first_name}?").exists()

"""The visual rule builder in headless Chromium: an admin builds a trigger and an SLA policy from rows of
field · operator · value without typing JSON, the server's validation errors come back on the form with the rows
intact, what is saved is the JSON the services validate, and the saved trigger acts on a new ticket."""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from atende.accounts.tests.factories import AdminFactory
from atende.automation.models import Trigger
from atende.core.actor import Actor
from atende.sla.models import SlaPolicy
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = [pytest.mark.browser]
# Set ATENDE_SCREENSHOTS=docs/screenshots to refresh the pictures in the docs; a plain run never rewrites tracked files.
SCREENSHOTS = Path(os.environ.get("ATENDE_SCREENSHOTS") or Path(__file__).resolve().parents[3] / "var" / "screenshots")


def _login(page, live_server, user, path):
    page.goto(f"{live_server.url}/accounts/login/?next={path}", timeout=30_000)  # the first page warms the server
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}")


def _csp_clean(page):
    """Nothing the builder added carries inline styles or handlers."""
    return page.evaluate("""() => [...document.querySelectorAll('.rule-builder *, .rule-summary-box *')]
        .filter(n => n.hasAttribute('style') || [...n.attributes].some(a => a.name.startsWith('on'))).length""")


@pytest.mark.django_db(transaction=True)
def test_admin_builds_a_trigger_visually_and_it_acts_on_a_new_ticket(live_server, page, customer, team):
    admin = AdminFactory(email="builder.admin@support.example")
    _login(page, live_server, admin, "/console/automation/triggers/new/")
    assert not page.locator("textarea[name=conditions]").is_visible()  # no JSON on the page by default

    page.get_by_label("Name").fill("Outages are urgent")
    page.get_by_label("Ticket created").check()
    conditions = page.locator("[data-rule-builder-for=conditions]")
    conditions.locator(".rb-group-all").get_by_role("button", name="Add condition").click()
    row = conditions.locator(".rb-group-all .rb-row").first
    row.get_by_label("Field").select_option(label="Subject")
    row.get_by_label("Operator").select_option(label="contains any of the words")
    row.get_by_label("Value").fill("outage down")

    actions = page.locator("[data-rule-builder-for=actions]")
    actions.get_by_role("button", name="Add action").click()
    actions.locator(".rb-row").nth(0).get_by_label("Action").select_option(label="Set priority")
    actions.locator(".rb-row").nth(0).get_by_label("Priority").select_option(label="Urgent")
    actions.get_by_role("button", name="Add action").click()
    actions.locator(".rb-row").nth(1).get_by_label("Action").select_option(label="Add tags")
    summary = page.locator(".rule-summary").inner_text()
    assert summary == ("When a ticket (ticket created) matches subject contains any of the words outage down, "
                       "then set priority Urgent, add tags.")

    page.get_by_role("button", name="Save").click()  # no tags given: the server refuses, the rows stay
    expect(page.locator("#form-errors")).to_contain_text("Action 2: “add_tags” needs “value”")
    assert page.locator("[data-rule-builder-for=actions] .rb-row").count() == 2
    assert page.locator("[data-rule-builder-for=conditions] .rb-row").first.get_by_label("Value").input_value() == \
        "outage down"
    page.locator("[data-rule-builder-for=actions] .rb-row").nth(1).get_by_label("Tags").fill("outage, status-page")
    assert _csp_clean(page) == 0
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("[data-rule-builder-for=conditions]").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "trigger-builder-1280.png"))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/console/automation/triggers/")

    trigger = Trigger.objects.get(name="Outages are urgent")
    assert trigger.events == ["created"]
    assert trigger.conditions == {"all": [{"field": "subject", "op": "contains_any_words", "value": "outage down"}],
                                  "any": []}
    assert trigger.actions == [{"type": "set_priority", "value": "urgent"},
                               {"type": "add_tags", "value": ["outage", "status-page"]}]

    ticket = make_ticket(requester=customer, actor=Actor.for_user(customer), subject="Checkout is down")
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert set(ticket.tags.values_list("name", flat=True)) == {"outage", "status-page"}
    assert TicketEvent.objects.filter(ticket=ticket, type="PRIORITY_CHANGED", actor_kind="automation").exists()

    page.get_by_role("link", name="Outages are urgent").click()  # reopened: the rows show what was saved
    row = page.locator("[data-rule-builder-for=conditions] .rb-row").first
    assert row.get_by_label("Field").input_value() == "subject"
    assert row.get_by_label("Value").input_value() == "outage down"


@pytest.mark.django_db(transaction=True)
def test_the_json_stays_behind_a_toggle_and_round_trips(live_server, page, team):
    admin = AdminFactory()
    _login(page, live_server, admin, "/console/automation/triggers/new/")
    page.get_by_label("Name").fill("Assign VIP tickets")
    page.get_by_label("Ticket created").check()
    conditions = page.locator("[data-rule-builder-for=conditions]")
    toggle = page.locator("[data-rule-builder-for=conditions] ~ .rb-toggle").first
    toggle.click()
    page.locator("textarea[name=conditions]").fill(json.dumps(
        {"any": [{"field": "tags", "op": "includes_any", "value": ["vip"]},
                 {"field": "team", "op": "in", "value": [team.pk]}]}))
    toggle.click()  # back to the rows, built from the JSON typed
    assert conditions.locator(".rb-group-any .rb-row").count() == 2
    assert conditions.locator(".rb-group-any .rb-row").nth(1).get_by_label("Value").evaluate(
        "s => [...s.selectedOptions].map(o => o.textContent)") == [team.name]
    toggle.click()
    page.locator("textarea[name=conditions]").fill('{"all": [{"field": "mood", "op": "is", "value": "x"}]}')
    toggle.click()  # something the rows cannot show: stays JSON and says why
    assert page.locator("textarea[name=conditions]").is_visible()
    assert "cannot show" in page.locator(".rb-note").first.inner_text()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-errors")).to_contain_text("unknown field “mood”")


@pytest.mark.django_db(transaction=True)
def test_admin_builds_an_sla_policy_with_breach_actions(live_server, page, team):
    admin = AdminFactory()
    _login(page, live_server, admin, "/console/sla/policies/new/")
    page.locator("#id_name").fill("Urgent in an hour")
    page.get_by_label("First reply within (minutes)").fill("60")
    conditions = page.locator("[data-rule-builder-for=conditions]")
    conditions.locator(".rb-group-all").get_by_role("button", name="Add condition").click()
    row = conditions.locator(".rb-row").first
    row.get_by_label("Field").select_option(label="Priority")
    row.get_by_label("Operator").select_option(label="is at least")
    row.get_by_label("Value").select_option(label="High")
    breach = page.locator("[data-rule-builder-for=breach_actions]")
    breach.get_by_role("button", name="Add action").click()
    breach.locator(".rb-row").first.get_by_label("Action").select_option(label="Set team")
    breach.locator(".rb-row").first.get_by_label("Team").select_option(label=team.name)
    assert f"Actions on breach: set team {team.name}" in page.locator(".rule-summary").inner_text()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/console/sla/")
    policy = SlaPolicy.objects.get(name="Urgent in an hour")
    assert policy.conditions == {"all": [{"field": "priority", "op": "at_least", "value": "high"}], "any": []}
    assert policy.breach_actions == [{"type": "set_team", "value": team.pk}]
    assert policy.warning_actions == []


@pytest.mark.django_db(transaction=True)
def test_admin_sets_business_hours_on_a_weekly_grid_with_holidays(live_server, page, team):
    from atende.sla.models import BusinessCalendar

    admin = AdminFactory()
    _login(page, live_server, admin, "/console/sla/calendars/new/")
    assert not page.locator("textarea[name=hours]").is_visible()
    page.locator("#id_name").fill("São Paulo office")
    page.locator("#id_time_zone").fill("America/Sao_Paulo")
    grid = page.locator(".hours-grid")
    assert grid.get_by_role("checkbox", name="Monday").is_checked() and not grid.get_by_role("checkbox", name="Saturday").is_checked()
    grid.get_by_role("checkbox", name="Saturday").check()  # a new open day starts 09:00–18:00
    grid.get_by_label("To · Saturday", exact=True).fill("13:00")
    grid.get_by_role("checkbox", name="Friday").uncheck()
    grid.get_by_label("To · Monday", exact=True).fill("12:00")
    grid.get_by_role("button", name="Add hours · Monday").click()  # a lunch break: two intervals
    page.get_by_role("button", name="Add holiday").click()
    holiday = page.locator(".holiday-list .rb-row").first
    holiday.get_by_label("Date").fill("2026-12-25")
    holiday.get_by_label("Name").fill("Natal")
    holiday.get_by_label("Every year").check()
    page.get_by_role("button", name="Add holiday").click()
    page.locator(".holiday-list .rb-row").nth(1).get_by_label("Date").fill("2027-02-16")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/console/sla/calendars/")

    calendar = BusinessCalendar.objects.get(name="São Paulo office")
    assert sorted((h.weekday, h.start_minute, h.end_minute) for h in calendar.hours.all()) == [
        (0, 540, 720), (0, 780, 1080), (1, 540, 1080), (2, 540, 1080), (3, 540, 1080), (5, 540, 780)]
    assert sorted((str(h.date)[5:] if h.yearly else str(h.date), h.yearly, h.name)
                  for h in calendar.holidays.all()) == [("12-25", True, "Natal"), ("2027-02-16", False, "")]

    page.get_by_role("link", name="São Paulo office").click()  # reopened: the grid shows what was saved
    grid = page.locator(".hours-grid")
    assert not grid.get_by_role("checkbox", name="Friday").is_checked()
    assert grid.get_by_label("To · Saturday", exact=True).input_value() == "13:00"
    assert page.locator(".holiday-list .rb-row").count() == 2

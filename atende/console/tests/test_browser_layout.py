"""The console's layout in headless Chromium at a laptop (1280×800) and a phone (390×844): dense lists (20+ rows
above the fold), no sideways scrolling on any console page, the phone menu, inline edits on the ticket page, and
the translated shortcuts help. Screenshots of the main pages go to var/screenshots/ (ATENDE_SCREENSHOTS=docs/screenshots refreshes the docs' pictures)."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AdminFactory, AgentFactory
from atende.console.models import Notification
from atende.core.actor import Actor
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = [pytest.mark.browser]

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Set ATENDE_SCREENSHOTS=docs/screenshots to refresh the pictures in the docs; a plain run never rewrites tracked files.
SCREENSHOTS = Path(os.environ.get("ATENDE_SCREENSHOTS") or Path(__file__).resolve().parents[3] / "var" / "screenshots")


def _page(browser, live_server, user, viewport, locale="en-US"):
    context = browser.new_context(viewport=viewport, locale=locale)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/console/")
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill("secret-pass-1")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/console/**")
    return page


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _rows_visible(page) -> int:
    return page.evaluate("""() => [...document.querySelectorAll('.ticket-list tbody tr')]
        .filter(r => { const b = r.getBoundingClientRect(); return b.height > 0 && b.bottom <= innerHeight; }).length""")


@pytest.fixture
def desk(db, team, customer):
    admin = AdminFactory(email="layout.admin@support.example", name="Ana Admin")
    team.members.add(admin)
    actor = Actor.for_user(admin)
    tickets = [make_ticket(requester=customer, actor=actor, team=team,
                           subject=f"Ticket number {i} with a subject long enough to wrap on a narrow screen "
                                   f"if nothing truncated it")
               for i in range(30)]
    return admin, tickets


def _console_pages(tickets, customer) -> list[str]:
    """Every console page an admin reaches from the menu, plus a ticket, a customer and an organisation."""
    names = ["console:queues", "console:search", "console:ticket_new", "console:phone_call", "console:saved_view_new",
             "kb:manage", "reports:dashboard", "reports:schedules", "sla:policies", "sla:policy_new", "sla:calendars",
             "sla:calendar_new", "automation:index", "automation:teams", "automation:macros", "automation:macro_new",
             "automation:canned", "automation:canned_new", "email_channel:quarantine", "integrations:webhooks",
             "portal:branding", "signin:settings", "audit:log", "api:tokens"]
    urls = [reverse(name) for name in names]
    urls += [reverse("automation:rules", args=[kind]) for kind in ("routing", "triggers", "time-rules")]
    urls += [reverse("automation:rule_new", args=[kind]) for kind in ("routing", "triggers", "time-rules")]
    urls += ["/console/?view=all_open", "/console/search/?q=ticket",
             reverse("console:ticket", args=[tickets[0].number]), reverse("console:customer", args=[customer.pk]),
             reverse("console:organization", args=[customer.organization_id])]
    return urls


def _offenders(page) -> list[str]:
    """What sticks out on the right, for a readable failure."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')].filter(n => {
            const b = n.getBoundingClientRect(); if (b.right <= innerWidth + 1 || b.width === 0) return false;
            for (let p = n.parentElement; p; p = p.parentElement) {
              const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return false;
            }
            return true; }).slice(0, 5).map(n => n.tagName + '.' + n.className + ' → ' + Math.round(n.getBoundingClientRect().right))""")


@pytest.mark.django_db(transaction=True)
def test_a_laptop_shows_twenty_one_line_rows_and_bulk_actions_only_when_selecting(live_server, browser, desk):
    admin, tickets = desk
    page = _page(browser, live_server, admin, LAPTOP)
    page.goto(f"{live_server.url}/console/?view=all_open")
    page.locator(".ticket-list tbody tr").first.wait_for()
    assert _rows_visible(page) >= 20
    assert _overflow(page) <= 0
    assert page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height") < 50  # one line
    first = page.locator(".ticket-list tbody tr").first
    assert first.bounding_box()["height"] < 34  # the long subject is cut, not wrapped
    # full text on hover, and the start of the latest message beneath it
    assert first.locator("a.subject").get_attribute("title") == f"{tickets[-1].subject}\nIt is on fire."
    assert first.locator(".col-sla_due_at").count() == 1
    assert not page.locator(".bulk-bar").is_visible()
    page.get_by_label(f"Select ticket #{tickets[-1].number}").check()
    assert page.locator(".bulk-bar").is_visible()
    page.get_by_label(f"Select ticket #{tickets[-1].number}").uncheck()
    assert not page.locator(".bulk-bar").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "queue-1280.png"))
    page.goto(f"{live_server.url}/console/tickets/{tickets[0].number}/")
    page.screenshot(path=str(SCREENSHOTS / "ticket-1280.png"))
    page.goto(f"{live_server.url}/console/sla/calendars/new/")
    page.screenshot(path=str(SCREENSHOTS / "business-hours-1280.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_no_console_page_scrolls_sideways_on_a_phone(live_server, browser, desk, customer):
    admin, tickets = desk
    page = _page(browser, live_server, admin, PHONE)
    wide = {}
    for url in _console_pages(tickets, customer):
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        if _overflow(page) > 0:
            wide[url] = _offenders(page)
    assert wide == {}, "\n".join(f"{url}: {what}" for url, what in wide.items())

    page.goto(f"{live_server.url}/console/?view=all_open")
    assert not page.get_by_role("link", name="Reports").is_visible()  # folded behind the menu button
    page.get_by_role("button", name="Menu").click()
    assert page.get_by_role("link", name="Reports").is_visible()
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "true"
    assert _overflow(page) <= 0
    page.get_by_role("button", name="Menu").click()
    page.screenshot(path=str(SCREENSHOTS / "queue-390.png"))
    page.goto(f"{live_server.url}/console/tickets/{tickets[0].number}/")
    page.screenshot(path=str(SCREENSHOTS / "ticket-390.png"))
    page.goto(f"{live_server.url}/console/automation/triggers/new/")
    page.screenshot(path=str(SCREENSHOTS / "trigger-builder-390.png"))


@pytest.mark.django_db(transaction=True)
def test_ticket_fields_save_as_soon_as_they_change(live_server, browser, desk, team):
    admin, tickets = desk
    ticket = tickets[0]
    page = _page(browser, live_server, admin, LAPTOP)
    page.goto(f"{live_server.url}/console/tickets/{ticket.number}/")
    page.select_option("#panel_priority", "high")  # no button pressed
    page.locator("#panel_priority option[value=high][selected]").wait_for(state="attached")  # the redrawn panel
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert TicketEvent.objects.filter(ticket=ticket, type="PRIORITY_CHANGED", actor_user=admin).count() == 1
    page.select_option("#panel_assignee", str(admin.pk))
    page.locator(f"#panel_assignee option[value='{admin.pk}'][selected]").wait_for(state="attached")
    ticket.refresh_from_db()
    assert ticket.assignee_id == admin.pk and ticket.priority == "high"

    other = _page(browser, live_server, admin, LAPTOP)  # the same ticket open in a second window meanwhile
    other.goto(f"{live_server.url}/console/tickets/{ticket.number}/")
    other.select_option("#panel_priority", "low")
    other.locator("#panel_priority option[value=low][selected]").wait_for(state="attached")
    page.select_option("#panel_status", "pending")
    page.locator("#panel-error").wait_for()  # the optimistic-concurrency check refuses the stale panel
    assert "Someone else changed this ticket" in page.locator("#panel-error").inner_text()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("new", "low")


@pytest.mark.django_db(transaction=True)
def test_shortcuts_help_speaks_the_agents_language(live_server, browser, desk):
    admin, _ = desk
    admin.locale = "pt-br"
    admin.save(update_fields=["locale"])
    page = _page(browser, live_server, admin, LAPTOP, locale="pt-BR")
    page.goto(f"{live_server.url}/console/?view=all_open")
    page.locator("h1").click()
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-help[open]")
    dialog.wait_for()
    assert "Atalhos de teclado" in dialog.inner_text()
    assert "Keyboard shortcuts" not in dialog.inner_text()


@pytest.mark.django_db(transaction=True)
def test_a_mention_in_a_note_reaches_the_agents_bell(live_server, browser, desk, team):
    admin, tickets = desk
    ticket = tickets[0]
    buddy = AgentFactory(name="Bia Buddy", email="bia@support.example")
    team.members.add(buddy)
    writer = _page(browser, live_server, admin, LAPTOP)
    writer.goto(f"{live_server.url}/console/tickets/{ticket.number}/")
    writer.get_by_label("Internal note").check()
    writer.locator("#reply_body").press_sequentially("Could you check this, @bi")
    writer.get_by_role("option", name="Bia Buddy · bia@support.example").wait_for()
    writer.keyboard.press("Enter")  # picks the suggestion, does not send
    assert writer.locator("#reply_body").input_value() == "Could you check this, @bia@support.example "
    writer.click("#send-reply")
    writer.locator(".timeline .message.note", has_text="Could you check this").wait_for()

    reader = _page(browser, live_server, buddy, PHONE)
    bell = reader.locator("#notification-bell .bell-count")
    bell.wait_for()
    assert bell.inner_text() == "1"
    reader.get_by_role("link", name="Notifications: 1 unread").click()  # in sight on a phone, next to Menu
    reader.get_by_role("button", name=f"Ana Admin · mentioned you in a note · #{ticket.number}").click()
    reader.wait_for_url(f"**/console/tickets/{ticket.number}/")
    reader.locator("#notification-bell:not(:has(.bell-count))").wait_for(state="attached")
    assert Notification.objects.get(recipient=buddy).read_at is not None

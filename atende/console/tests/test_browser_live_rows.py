"""In headless Chromium against the product served as ``atende serve`` serves it on one machine (the worker and
scheduler beside the web process or inside it, tasks in the database queue, no Redis): a ticket a customer
submits appears live in an agent's list with the assignee that routing gave it in the background, not as it was
at its first event ("Unassigned")."""

from __future__ import annotations

import re
import time

import pytest

from atende.core.testing.server import demo_server, query

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", params=["beside", "embedded"])
def served(request, tmp_path_factory, _playwright):
    """``beside``: ``atende serve``'s default (the worker in its own process, pushing through the web process's
    channel layer over its socket); ``embedded``: ``--embedded-worker``."""
    mode = {"serve": True} if request.param == "beside" else {"embedded_worker": True}
    with demo_server(tmp_path_factory.mktemp("serve-var"), **mode) as served:
        yield served


def log_in(page, base: str, email: str, password: str, landing: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(landing))


def customer_writes_in(page, base: str, subject: str, description: str) -> None:
    """The demo customer sends a request from the portal."""
    log_in(page, base, "customer@atende.test", "atende-customer", r"/portal/")
    page.goto(f"{base}/portal/requests/new/")
    page.fill("#id_subject", subject)
    page.fill("#id_description", description)
    page.click("#request-form button[type=submit]")


def _wait_for(read, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_new_ticket_appears_live_with_the_assignee_routing_gave_it(served, new_page):
    base, database = served
    # Billing assigns round robin among its online agents: make sure there is one.
    query(database, "UPDATE accounts_user SET availability = 'online' WHERE id IN (SELECT m.user_id FROM "
                    "accounts_teammembership m JOIN accounts_team t ON t.id = m.team_id WHERE t.slug = 'billing')")
    agent = new_page()
    log_in(agent, base, "admin@atende.test", "atende-admin", r"/console/")
    agent.goto(f"{base}/console/?view=all_open")
    agent.locator("body[data-realtime='connected']").wait_for(state="attached")

    subject = f"Refund for invoice {int(time.time())}"
    customer_writes_in(new_page(), base, subject, "I was charged twice, please refund one of them.")

    # The routing rule moves it to Billing and the team's strategy assigns it, in the worker, after creation.
    number, assignee = _wait_for(lambda: query(
        database, "SELECT t.id, u.name FROM tickets_ticket t JOIN accounts_user u ON u.id = t.assignee_id "
                  "WHERE t.subject = ?", subject))[0]
    row = agent.locator("#ticket-list tr", has=agent.locator(f"a[href='/console/tickets/{number}/']"))
    row.wait_for()
    row.filter(has_text=assignee).wait_for(timeout=10_000)
    assert "Unassigned" not in row.inner_text()
    assert agent.evaluate("performance.getEntriesByType('navigation').length") == 1  # no page load


STALE_COUNTER = """
window.__stale = 0;
document.addEventListener("atende:lists-stale", () => { window.__stale += 1; });
"""


def test_a_list_is_not_redrawn_under_a_selection_and_catches_up_once_it_is_cleared(served, new_page):
    base, database = served
    agent = new_page()
    log_in(agent, base, "admin@atende.test", "atende-admin", r"/console/")
    agent.add_init_script(STALE_COUNTER)
    agent.goto(f"{base}/console/?view=all_open")
    agent.locator("body[data-realtime='connected']").wait_for(state="attached")
    first = agent.locator("#ticket-list input[name=tickets]").first
    first.check()

    subject = f"Selected while this arrived {time.time()}"
    customer_writes_in(new_page(), base, subject,
                       "A ticket that arrives while the agent is choosing tickets for a bulk action.")
    number = _wait_for(lambda: query(database, "SELECT id FROM tickets_ticket WHERE subject = ?", subject))[0][0]
    new_row = agent.locator(f"#ticket-list a[href='/console/tickets/{number}/']")

    _wait_for(lambda: agent.evaluate("window.__stale") > 0)  # the change reached the page
    agent.wait_for_timeout(500)  # a redraw would have been on its way by now
    assert new_row.count() == 0 and first.is_checked()  # the agent's selection stands

    first.uncheck()
    new_row.first.wait_for()  # caught up as soon as nothing is selected
    assert agent.evaluate("performance.getEntriesByType('navigation').length") == 1

"""End to end in headless Chromium: an agent opens Reports from the console, narrows the period and channel, and
downloads the CSV."""

import datetime

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.tickets.services import message_add_reply
from atende.tickets.tests.factories import make_ticket

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_agent_reads_the_dashboard_and_downloads_the_csv(live_server, page, agent, team, customer, tmp_path):
    actor = Actor.for_user(agent)
    start = timezone.now() - datetime.timedelta(days=2)
    for channel in ("email", "email", "web"):
        ticket = make_ticket(requester=customer, actor=actor, team=team, channel=channel, created_at=start)
        message_add_reply(ticket=ticket, actor=actor, body_text="On it.", created_at=start + datetime.timedelta(hours=3))
    make_ticket(requester=customer, actor=actor, team=team, channel="web",
                created_at=timezone.now() - datetime.timedelta(days=20))

    page.goto(f"{live_server.url}/accounts/login/?next=/console/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/**")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports/")

    assert page.locator('[data-kpi="created"]').inner_text() == "4"
    assert page.locator('[data-kpi="first_response"]').inner_text().startswith("3.0 h")
    assert page.get_by_role("table").filter(has_text="Tickets created by channel").is_visible()
    page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)

    page.get_by_label("Period").select_option("7d")
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports/?*period=7d*")
    assert page.locator('[data-kpi="created"]').inner_text() == "2"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV (per day)").click()
    path = download_info.value.path()
    lines = open(path, encoding="utf-8").read().splitlines()
    assert len(lines) == 1 + 7
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == 2

"""End to end in headless Chromium: an agent opens Reports from the console, reads the charts (drawn with the
figures of the tables beneath them, under a strict Content-Security-Policy), narrows the period and channel,
downloads the CSV; the page fits a phone. Screenshots at 1280 and 390 px go to ``var/screenshots/`` (or
``$ATENDE_SCREENSHOTS``), which docs/reports.md shows."""

import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from atende.core.actor import Actor
from atende.sla.services.definitions import policy_save
from atende.tickets.services import message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(os.environ.get("ATENDE_SCREENSHOTS") or settings.BASE_DIR / "var" / "screenshots")
# What a strict policy allows: scripts and styles from the site's own files only, no eval.
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'"
RECORD_VIOLATIONS = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(
    {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, sample: e.sample}));"""


def _history(agent, team, customer):
    """Three weeks of tickets through the services, their events delivered (SLA clocks run): two a day, one
    answered in time and solved, one answered late, on alternating channels."""
    policy_save(name="Team SLA", conditions={}, first_reply_minutes=120, next_reply_minutes=60,
                resolution_minutes=24 * 60, business_hours=False, warn_before_minutes=10)
    actor = Actor.for_user(agent)
    today = timezone.localdate()
    for days_ago in range(1, 21):
        # At 09:00 local each day, so what falls in "the last 7 days" (from local midnight) does not depend on
        # the hour the test runs at: a ticket from three hours before now was a day earlier just after midnight.
        start = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=days_ago),
                                                              datetime.time(9)))
        for late, channel in ((False, "email"), (True, "web")):
            ticket = make_ticket(requester=customer, actor=actor, team=team, channel=channel, created_at=start)
            reply_at = start + datetime.timedelta(hours=3 if late else 1, minutes=days_ago)
            message_add_reply(ticket=ticket, actor=actor, body_text="On it.", created_at=reply_at)
            if not late:
                ticket_transition(ticket=ticket, to="solved", actor=actor,
                                  now=reply_at + datetime.timedelta(hours=days_ago % 5))


def _log_in(page, live_server, agent):
    page.goto(f"{live_server.url}/accounts/login/?next=/console/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/**")


def _strict_csp(page):
    def add_policy(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    page.route("**/reports/**", add_policy)
    page.add_init_script(RECORD_VIOLATIONS)


def _check_chart(page, chart_id):
    """The chart holds the table's figures, drew them, and its legend shows a hovered bucket's figures."""
    figure = page.locator(f"#chart-{chart_id}")
    table = figure.locator(f'table[data-chart-table="{chart_id}"]')
    header = table.locator("thead th").all_text_contents()
    rows = [row.locator("th, td").all_text_contents() for row in table.locator("tbody tr").all()]
    drawn = page.evaluate(f"AtendeCharts['{chart_id}'].data")
    labels = [s["label"] for s in page.evaluate(f"AtendeCharts['{chart_id}'].series")[1:]]
    assert drawn[0] == list(range(len(rows)))
    for series, values in enumerate(drawn[1:], start=1):
        assert header[series] == labels[series - 1]
        assert ["—" if v is None else v for v in values] == [
            "—" if row[series] == "—" else float(row[series]) for row in rows], (chart_id, labels[series - 1])
    assert page.evaluate(f"""(() => {{ const c = document.querySelector('[data-chart="{chart_id}"] canvas');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) ink++; return ink; }})()""") > 1000
    # Hover the last bucket that has a figure: the legend reads that row of the table.
    index = max(i for i, row in enumerate(rows) if row[1] != "—")
    box = page.locator(f'[data-chart="{chart_id}"] .u-over').bounding_box()
    x = page.evaluate(f"AtendeCharts['{chart_id}'].valToPos({index}, 'x')")
    page.mouse.move(box["x"] + x, box["y"] + box["height"] / 2)
    legend = figure.locator(".u-legend .u-value").all_text_contents()
    assert legend[0] == rows[index][0]
    for series in range(1, len(drawn)):
        assert legend[series].rstrip("%") == rows[index][series], (chart_id, series)


@pytest.mark.django_db(transaction=True)
def test_agent_reads_the_charts_narrows_the_report_and_downloads_the_csv(live_server, new_page, agent, team,
                                                                           customer):
    _history(agent, team, customer)
    page = new_page()
    _strict_csp(page)
    _log_in(page, live_server, agent)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports/")
    page.locator("body[data-charts='drawn']").wait_for(state="attached")

    assert page.locator('[data-kpi="created"]').inner_text() == "40"
    assert page.locator('[data-kpi="first_reply_sla"]').inner_text().startswith("50%")
    for chart_id in ("volume", "times", "sla", "satisfaction"):
        page.locator(f"#chart-{chart_id} summary").click()  # the table is folded under "Show the figures"
        if chart_id != "satisfaction":  # no survey answered: nothing to draw there
            _check_chart(page, chart_id)
    violations = page.evaluate("window.cspViolations")
    assert [v for v in violations if v["directive"].startswith("script-src")] == []
    assert [v for v in violations if v["directive"] == "style-src-attr"] == []  # no style="" anywhere
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for chart_id in ("volume", "times", "sla", "satisfaction"):
        page.locator(f"#chart-{chart_id} summary").click()  # fold the tables again for the picture
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / "reports-1280.png"), full_page=True)

    page.get_by_label("Period").select_option("7d")
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/reports/?*period=7d*")
    assert page.locator('[data-kpi="created"]').inner_text() == "6"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV (per day)").click()
    lines = open(download_info.value.path(), encoding="utf-8").read().splitlines()
    assert len(lines) == 1 + 7
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == 6
    with page.expect_download() as download_info:
        page.locator("#chart-volume figcaption a").click()
    assert open(download_info.value.path(), encoding="utf-8").read().splitlines()[0] == "date,Created,Solved"

    # On a phone the page fits the screen: no sideways scrolling, the charts as wide as the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reports/")
    page.locator("body[data-charts='drawn']").wait_for(state="attached")
    page.wait_for_function("AtendeCharts.volume.width <= 390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "reports-390.png"), full_page=True)

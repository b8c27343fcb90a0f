"""In headless Chromium: the header's language switch works for a user whose profile names a language (without
an inline event handler: the page's static script submits the form)."""

import pytest

from atende.accounts.tests.factories import AgentFactory

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_the_header_switch_changes_the_page_and_the_profile(live_server, page):
    agent = AgentFactory(locale="en")
    page.goto(f"{live_server.url}/accounts/login/?next=/accounts/profile/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/profile/")
    assert page.locator("html").get_attribute("lang") == "en"

    page.select_option("#lang-select", "pt-br")
    page.locator("html[lang='pt-br']").wait_for(state="attached")
    assert page.url.endswith("/accounts/profile/")
    assert page.get_by_role("button", name="Sair").is_visible()
    agent.refresh_from_db()
    assert agent.locale == "pt-br"

    page.goto(f"{live_server.url}/accounts/profile/")  # the next page too: the profile now says Portuguese
    assert page.locator("html").get_attribute("lang") == "pt-br"
    page.select_option("#lang-select", "en")
    page.locator("html[lang='en']").wait_for(state="attached")
    agent.refresh_from_db()
    assert agent.locale == "en"

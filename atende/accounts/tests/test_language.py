"""The header's language switch: it changes the page, and the profile when the profile names a language (the
profile would otherwise win again on the next page)."""

import pytest
from django.conf import settings
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("core_urls")]
URL = "/accounts/language/"


def _switch(client, language, next_url="/accounts/profile/"):
    return client.post(URL, {"language": language, "next": next_url})


@pytest.mark.parametrize("factory", [AgentFactory, CustomerFactory])
@pytest.mark.parametrize(("start", "switch_to"), [("en", "pt-br"), ("pt-br", "en")])
def test_a_profile_language_follows_the_switch(client, factory, start, switch_to):
    user = factory(locale=start)
    client.force_login(user)
    response = _switch(client, switch_to)
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    user.refresh_from_db()
    assert user.locale == switch_to
    assert client.get(reverse("accounts:profile"))["Content-Language"] == switch_to


def test_browser_default_profiles_and_visitors_get_the_cookie(client):
    user = AgentFactory(locale="")
    client.force_login(user)
    _switch(client, "pt-br")
    user.refresh_from_db()
    assert user.locale == ""  # still "browser default": the cookie carries the choice
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "pt-br"
    assert client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "pt-br"
    visitor = client.__class__()
    visitor.post(URL, {"language": "pt-br", "next": "/accounts/login/"})
    assert visitor.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "pt-br"


@pytest.mark.parametrize("language", ["", "fr", "pt-br'--", "x" * 300])
def test_an_unknown_language_changes_nothing(client, language):
    user = AgentFactory(locale="en")
    client.force_login(user)
    assert _switch(client, language).status_code == 302
    user.refresh_from_db()
    assert user.locale == "en"
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
def test_it_never_redirects_off_site(client, next_url):
    assert _switch(client, "en", next_url)["Location"] == "/"


def test_only_post(client):
    assert client.get(URL).status_code == 405

"""Language from the profile, else the browser; times shown in the user's time zone."""

import datetime

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AdminFactory, AgentFactory, CustomerFactory
from atende.core.actor import Actor
from atende.tickets.services import ticket_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("core_urls")]


def test_profile_language_sets_content_language(client):
    client.force_login(CustomerFactory(locale="pt-br"))
    response = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Language"] == "pt-br"
    assert "Seu perfil" in response.text or "<html lang=\"pt-br\"" in response.text


def test_browser_language_is_used_when_the_profile_has_none(client):
    client.force_login(AgentFactory(locale=""))
    response = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    assert response["Content-Language"] == "pt-br"
    anonymous = client.__class__().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert anonymous["Content-Language"] == "pt-br"


def test_profile_language_wins_over_the_browser(client):
    client.force_login(AgentFactory(locale="en"))
    response = client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert response["Content-Language"] == "en"


@pytest.mark.parametrize(("zone", "shown"), [
    ("", "Jan. 15, 2025, noon"),
    ("America/Sao_Paulo", "Jan. 15, 2025, 9 a.m."),
    ("Asia/Tokyo", "Jan. 15, 2025, 9 p.m."),
    ("Not/AZone", "Jan. 15, 2025, noon"),  # a broken value falls back to UTC rather than failing
])
def test_times_are_rendered_in_the_user_time_zone(zone, shown, client):
    admin = AdminFactory(locale="en")
    admin.time_zone = zone
    admin.save(update_fields=["time_zone"])
    at = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)
    customer = CustomerFactory()
    ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Time check", body_text="b",
                  created_at=at)
    client.force_login(admin)
    response = client.get(reverse("admin:tickets_ticket_changelist"))
    assert response.status_code == 200
    assert shown in response.text

"""The profile's identities card (add, remove, permission checks) and the two-step merge page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import ContactIdentity
from atende.accounts.services import customer_get_or_create
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(db):
    return customer_get_or_create(email="ana@example.com", name="Ana")


def test_agent_sees_and_adds_identities_on_the_profile(client, agent, ana):
    client.force_login(agent)
    html = client.get(reverse("console:customer", args=[ana.pk])).content.decode()
    assert "ana@example.com" in html and "Add identity" in html
    response = client.post(reverse("console:customer_identity_add", args=[ana.pk]),
                           {"kind": "whatsapp", "value": "+55 11 91234-5678"}, follow=True)
    html = response.content.decode()
    assert "Identity added." in html and "+5511912345678" in html
    assert ana.identities.filter(kind="whatsapp", value="+5511912345678").exists()


def test_taken_identity_shows_why_and_changes_nothing(client, agent, ana):
    customer_find_or_create(kind="telegram", value="99", name="Bot fan")
    client.force_login(agent)
    html = client.post(reverse("console:customer_identity_add", args=[ana.pk]),
                       {"kind": "telegram", "value": "99"}, follow=True).content.decode()
    assert "already belongs to another person (Bot fan)" in html
    assert not ana.identities.filter(kind="telegram").exists()


def test_agent_removes_an_identity(client, agent, ana):
    phone = ContactIdentity.objects.create(customer=ana, kind="phone", value="+5511912345678")
    client.force_login(agent)
    client.post(reverse("console:customer_identity_remove", args=[ana.pk, phone.pk]))
    assert not ContactIdentity.objects.filter(pk=phone.pk).exists()


def test_collaborators_and_customers_cannot_change_identities(client, collaborator, ana, other_customer):
    for user in (collaborator, other_customer, ana):
        client.force_login(user)
        response = client.post(reverse("console:customer_identity_add", args=[ana.pk]),
                               {"kind": "phone", "value": "+5511912345678"})
        assert response.status_code == 404
    assert not ana.identities.filter(kind="phone").exists()
    client.force_login(collaborator)
    html = client.get(reverse("console:customer", args=[ana.pk])).content.decode()
    assert "ana@example.com" in html and "Add identity" not in html


def test_identity_of_another_customer_cannot_be_removed_through_this_profile(client, agent, ana, other_customer):
    theirs = ContactIdentity.objects.create(customer=other_customer, kind="phone", value="+5511912345678")
    client.force_login(agent)
    response = client.post(reverse("console:customer_identity_remove", args=[ana.pk, theirs.pk]))
    assert response.status_code == 404 and ContactIdentity.objects.filter(pk=theirs.pk).exists()


def test_merge_asks_for_confirmation_then_merges(client, agent, ana):
    duplicate = customer_find_or_create(kind="phone", value="+5511912345678", name="Ana phone")
    ticket = make_ticket(requester=duplicate)
    client.force_login(agent)
    url = reverse("console:customer_merge", args=[ana.pk])
    preview = client.get(url, {"other": "(11) 91234-5678"}).content.decode()
    assert "Ana phone" in preview and "Merge Ana phone into this customer" in preview
    ticket.refresh_from_db()
    assert ticket.requester_id == duplicate.pk  # nothing happens before the confirmation
    response = client.post(url, {"other": f"#{duplicate.pk}", "confirm": "yes"}, follow=True)
    assert "was merged into this customer" in response.content.decode()
    ticket.refresh_from_db()
    duplicate.refresh_from_db()
    assert ticket.requester_id == ana.pk and not duplicate.is_active


def test_merge_page_says_when_nobody_matches(client, agent, ana):
    client.force_login(agent)
    html = client.get(reverse("console:customer_merge", args=[ana.pk]), {"other": "nobody@example.com"})
    assert "No other active customer" in html.content.decode()


def test_merge_by_number_finds_only_customers(client, agent, ana, admin_user):
    client.force_login(agent)
    url = reverse("console:customer_merge", args=[ana.pk])
    for other in (f"#{admin_user.pk}", f"#{ana.pk}", "#999999"):  # staff, the same customer, nobody
        assert "No other active customer" in client.get(url, {"other": other}).content.decode(), other

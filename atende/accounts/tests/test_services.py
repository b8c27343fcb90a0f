"""People: customers by email (placed in their organisation by domain), users, organisations and teams."""

import pytest

from atende.accounts.choices import Role
from atende.accounts.models import OrganizationDomain, User
from atende.accounts.services import (
    customer_get_or_create,
    organization_create,
    team_create,
    user_create,
    user_update_profile,
)
from atende.accounts.tests.factories import AgentFactory
from atende.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db


def test_new_customer_joins_the_organisation_of_their_domain():
    org = organization_create(name="Acme", domains=["@Acme.Example "], shares_tickets=True)
    assert list(OrganizationDomain.objects.values_list("domain", flat=True)) == ["acme.example"]
    user = customer_get_or_create(email=" Maria@ACME.example ", name="Maria")
    assert user.email == "maria@acme.example" and user.organization == org and user.role == Role.CUSTOMER
    assert not user.has_usable_password()
    assert customer_get_or_create(email="MARIA@acme.example").pk == user.pk
    assert customer_get_or_create(email="joe@elsewhere.example").organization is None


@pytest.mark.parametrize("email", ["", "no-at-sign", "@x.example", "a@", "a b@x.example"])
def test_invalid_emails_are_refused(email):
    with pytest.raises(ValidationError):
        customer_get_or_create(email=email)
    assert not User.objects.exists()


def test_user_create_refuses_duplicates_and_hashes_the_password():
    user = user_create(email="Agent@Support.example", password="long-pass-1", role=Role.AGENT, time_zone="Europe/Lisbon")
    assert user.check_password("long-pass-1") and user.is_agent and user.is_staff_member and not user.is_staff
    with pytest.raises(ValidationError) as info:
        user_create(email="agent@support.example")
    assert info.value.code == "email_taken"
    with pytest.raises(ValidationError):
        user_create(email="x@support.example", role="overlord")


def test_profile_update_accepts_only_profile_fields():
    agent = AgentFactory()
    user_update_profile(user=agent, locale="pt-br", time_zone="America/Sao_Paulo", name="Ana")
    agent.refresh_from_db()
    assert (agent.locale, agent.time_zone, agent.name) == ("pt-br", "America/Sao_Paulo", "Ana")
    with pytest.raises(ValidationError):
        user_update_profile(user=agent, role="admin")
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_team_create_adds_members():
    agents = [AgentFactory(), AgentFactory()]
    team = team_create(name="Billing", slug="billing", members=agents)
    assert set(team.members.all()) == set(agents)


def test_roles_and_admin_access():
    admin = user_create(email="root@support.example", role=Role.ADMIN)
    collaborator = user_create(email="c@support.example", role=Role.COLLABORATOR)
    customer = user_create(email="c@customer.example")
    assert admin.is_staff and admin.has_perm("tickets.view_ticket") and admin.has_module_perms("tickets")
    assert collaborator.is_staff_member and not collaborator.is_agent and not collaborator.is_staff
    assert customer.is_customer and not customer.is_staff_member and not customer.has_perm("tickets.view_ticket")


def test_unknown_time_zones_are_refused():
    agent = AgentFactory()
    with pytest.raises(ValidationError) as info:
        user_update_profile(user=agent, time_zone="Mars/Olympus")
    assert info.value.code == "unknown_time_zone"
    with pytest.raises(ValidationError):
        user_create(email="z@support.example", time_zone="Nowhere/City")

"""Who may see a customer's or an organisation's record."""

import pytest
from django.contrib.auth.models import AnonymousUser

from atende.accounts.selectors import access_customer, access_organization, agent_list, team_ids_for_user
from atende.accounts.tests.factories import (
    AdminFactory,
    AgentFactory,
    CollaboratorFactory,
    CustomerFactory,
    OrganizationFactory,
    TeamFactory,
)
from atende.core.exceptions import NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    org, other_org = OrganizationFactory(shares_tickets=True), OrganizationFactory()
    return {
        "org": org,
        "anonymous": AnonymousUser(),
        "customer": CustomerFactory(organization=org),
        "org_member": CustomerFactory(organization=org),
        "other_customer": CustomerFactory(),
        "customer_of_another_org": CustomerFactory(organization=other_org),
        "restricted_agent_outside_team": AgentFactory(restrict_to_teams=True),
        "collaborator": CollaboratorFactory(),
        "agent": AgentFactory(),
        "admin": AdminFactory(),
    }


CUSTOMER_VISIBLE_TO = {"customer", "restricted_agent_outside_team", "collaborator", "agent", "admin"}
ORG_VISIBLE_TO = {"customer", "org_member", "restricted_agent_outside_team", "collaborator", "agent", "admin"}
VIEWERS = ["anonymous", "customer", "org_member", "other_customer", "customer_of_another_org",
           "restricted_agent_outside_team", "collaborator", "agent", "admin"]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_access_customer(viewer, people):
    user, customer = people[viewer], people["customer"]
    if viewer in CUSTOMER_VISIBLE_TO:
        found = access_customer(user=user, customer_id=customer.pk)
        assert found.pk == customer.pk and found.organization == people["org"]
    else:
        with pytest.raises(NotFound):
            access_customer(user=user, customer_id=customer.pk)
    with pytest.raises(NotFound):
        access_customer(user=user, customer_id=987654)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_access_organization(viewer, people):
    user, org = people[viewer], people["org"]
    if viewer in ORG_VISIBLE_TO:
        assert access_organization(user=user, organization_id=org.pk) == org
    else:
        with pytest.raises(NotFound):
            access_organization(user=user, organization_id=org.pk)
    with pytest.raises(NotFound):
        access_organization(user=user, organization_id=987654)


def test_agent_list_has_active_agents_and_admins_only():
    agent, admin = AgentFactory(name="Bea"), AdminFactory(name="Ana")
    AgentFactory(is_active=False)
    CollaboratorFactory()
    CustomerFactory()
    assert list(agent_list()) == [admin, agent]
    assert agent_list(active_only=False).count() == 3


def test_team_ids_are_cached_on_the_user(django_assert_num_queries):
    agent, team = AgentFactory(), TeamFactory()
    team.members.add(agent)
    with django_assert_num_queries(1):
        assert team_ids_for_user(agent) == [team.pk]
        assert team_ids_for_user(agent) == [team.pk]

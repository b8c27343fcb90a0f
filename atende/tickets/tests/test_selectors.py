"""Who sees what: the permission matrix for every ticket selector. "Not yours" is indistinguishable from "missing"."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from atende.accounts.tests.factories import (
    AdminFactory,
    AgentFactory,
    CollaboratorFactory,
    CustomerFactory,
    OrganizationFactory,
    TeamFactory,
)
from atende.core.actor import Actor
from atende.core.exceptions import NotFound
from atende.tickets.choices import MessageKind
from atende.tickets.models import Attachment
from atende.tickets.selectors import (
    access_attachment,
    access_ticket,
    event_list_for_user,
    message_list_for_user,
    ticket_list_for_user,
)
from atende.tickets.services import (
    IncomingFile,
    message_add_note,
    message_add_reply,
    ticket_merge,
    ticket_set_followers,
)
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two organisations (one shares tickets), three teams, and people in every position around three tickets."""
    shared_org = OrganizationFactory(shares_tickets=True)
    private_org = OrganizationFactory(shares_tickets=False)
    another_org = OrganizationFactory(shares_tickets=True)
    team, other_team, empty_team = TeamFactory(), TeamFactory(), TeamFactory()
    u = SimpleNamespace(
        anonymous=AnonymousUser(),
        customer=CustomerFactory(organization=shared_org),
        org_member_sharing=CustomerFactory(organization=shared_org),
        private_requester=CustomerFactory(organization=private_org),
        org_member_not_sharing=CustomerFactory(organization=private_org),
        other_customer=CustomerFactory(),
        customer_of_another_org=CustomerFactory(organization=another_org),
        cc=CustomerFactory(),
        third_requester=CustomerFactory(),
        agent=AgentFactory(),
        agent_outside_team=AgentFactory(),
        restricted_agent_outside_team=AgentFactory(restrict_to_teams=True),
        restricted_agent_in_team=AgentFactory(restrict_to_teams=True),
        restricted_follower=AgentFactory(restrict_to_teams=True),
        collaborator=CollaboratorFactory(),
        collaborator_outside_team=CollaboratorFactory(),
        admin=AdminFactory(),
        inactive_agent=AgentFactory(is_active=False),
    )
    for member, member_team in ((u.agent, team), (u.restricted_agent_in_team, team), (u.collaborator, team),
                                (u.agent_outside_team, other_team), (u.collaborator_outside_team, other_team),
                                (u.restricted_agent_outside_team, empty_team), (u.restricted_follower, empty_team),
                                (u.inactive_agent, team)):
        member_team.members.add(member)
    agent = Actor.for_user(u.agent)
    t = SimpleNamespace(
        shared=make_ticket(requester=u.customer, actor=agent, team=team,
                           attachments=[IncomingFile("public.txt", b"public", "text/plain")]),
        private=make_ticket(requester=u.private_requester, actor=agent, team=team),
        other_team=make_ticket(requester=u.third_requester, actor=agent, team=other_team,
                               assignee=u.restricted_agent_in_team),
    )
    ticket_set_followers(ticket=t.shared, actor=agent, followers=[u.cc])
    ticket_set_followers(ticket=t.private, actor=agent, followers=[u.restricted_follower])
    message_add_reply(ticket=t.shared, actor=agent, body_text="Public answer")
    message_add_note(ticket=t.shared, actor=agent, body_text="Internal only",
                     attachments=[IncomingFile("internal.txt", b"internal", "text/plain")])
    return SimpleNamespace(users=u, tickets=t, shared_org=shared_org, private_org=private_org)


ALL = {"shared", "private", "other_team"}
VISIBLE = {
    "anonymous": set(),
    "customer": {"shared"},
    "org_member_sharing": {"shared"},
    "private_requester": {"private"},
    "org_member_not_sharing": set(),
    "other_customer": set(),
    "customer_of_another_org": set(),
    "cc": {"shared"},
    "third_requester": {"other_team"},
    "agent": ALL,
    "agent_outside_team": ALL,  # not restricted to their teams
    "restricted_agent_outside_team": set(),
    "restricted_agent_in_team": ALL,  # the team's two, plus the one assigned to them
    "restricted_follower": {"private"},
    "collaborator": {"shared", "private"},
    "collaborator_outside_team": {"other_team"},
    "admin": ALL,
    "inactive_agent": set(),
}
STAFF = {"agent", "agent_outside_team", "restricted_agent_outside_team", "restricted_agent_in_team",
         "restricted_follower", "collaborator", "collaborator_outside_team", "admin", "inactive_agent"}


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_ticket_list_for_user(viewer, world, django_assert_max_num_queries):
    user = getattr(world.users, viewer)
    with django_assert_max_num_queries(3):
        numbers = set(ticket_list_for_user(user=user).values_list("number", flat=True))
    assert numbers == {getattr(world.tickets, name).number for name in VISIBLE[viewer]}


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_access_ticket(viewer, world):
    user = getattr(world.users, viewer)
    with pytest.raises(NotFound) as missing:
        access_ticket(user=user, ticket_id=987654)
    for name in sorted(ALL):
        ticket = getattr(world.tickets, name)
        if name in VISIBLE[viewer]:
            assert access_ticket(user=user, ticket_id=ticket.pk).pk == ticket.pk
            assert access_ticket(user=user, number=ticket.number).pk == ticket.pk
        else:
            for lookup in ({"ticket_id": ticket.pk}, {"number": ticket.number}):
                with pytest.raises(NotFound) as hidden:
                    access_ticket(user=user, **lookup)
                # exactly what a missing ticket gives: nobody can probe for other people's tickets
                assert (hidden.value.code, hidden.value.message) == (missing.value.code, missing.value.message)


@pytest.mark.parametrize("bad", ["abc", None, "1; DROP TABLE"])
def test_access_ticket_with_garbage_ids_is_not_found(bad, world):
    with pytest.raises(NotFound):
        access_ticket(user=world.users.admin, ticket_id=bad)


@pytest.mark.parametrize("viewer", sorted(v for v in VISIBLE if "shared" in VISIBLE[v]))
def test_message_list_hides_notes_from_customers(viewer, world):
    user = getattr(world.users, viewer)
    ticket = access_ticket(user=user, ticket_id=world.tickets.shared.pk)
    kinds = [m.kind for m in message_list_for_user(user=user, ticket=ticket)]
    if viewer in STAFF:
        assert kinds == [MessageKind.REPLY, MessageKind.REPLY, MessageKind.NOTE]
        assert event_list_for_user(user=user, ticket=ticket).exists()
    else:
        assert kinds == [MessageKind.REPLY, MessageKind.REPLY]
        assert not event_list_for_user(user=user, ticket=ticket).exists()


def test_customers_do_not_see_system_messages(world):
    u, t = world.users, world.tickets
    extra = make_ticket(requester=u.customer, actor=Actor.for_user(u.agent), team=t.shared.team)
    ticket_merge(source=extra, target=t.shared, actor=Actor.for_user(u.agent))
    customer_kinds = {m.kind for m in message_list_for_user(user=u.customer, ticket=t.shared)}
    agent_kinds = {m.kind for m in message_list_for_user(user=u.agent, ticket=t.shared)}
    assert customer_kinds == {MessageKind.REPLY}
    assert agent_kinds == {MessageKind.REPLY, MessageKind.NOTE, MessageKind.SYSTEM}


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_access_attachment(viewer, world):
    user = getattr(world.users, viewer)
    public = Attachment.objects.get(filename="public.txt")
    internal = Attachment.objects.get(filename="internal.txt")
    sees_ticket = "shared" in VISIBLE[viewer]
    for attachment, visible in ((public, sees_ticket), (internal, sees_ticket and viewer in STAFF)):
        if visible:
            assert access_attachment(user=user, attachment_id=attachment.pk).pk == attachment.pk
        else:
            with pytest.raises(NotFound):
                access_attachment(user=user, attachment_id=attachment.pk)
    with pytest.raises(NotFound):
        access_attachment(user=user, attachment_id=999999)

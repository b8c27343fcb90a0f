"""Contact identities: normalisation, the one lookup, find-or-create, adding/removing, and merging customers."""

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from atende.accounts.choices import CustomerEventType, IdentityKind
from atende.accounts.identities import (
    ORGANIZATION_DOMAINS,
    customer_find_or_create,
    customer_merge,
    identity_add,
    identity_remove,
    organization_id_for_email,
)
from atende.accounts.models import ContactIdentity, CustomerEvent, User
from atende.accounts.normalize import normalize_identity
from atende.accounts.selectors import customer_for_identity
from atende.accounts.services import customer_get_or_create, organization_create, user_create
from atende.accounts.tests.factories import CustomerFactory, OrganizationDomainFactory
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.core.testing.generations import another_process_commits, commit_generation_changes
from atende.tickets.models import Message, TicketEvent, TicketFollower
from atende.tickets.services import message_add_reply, ticket_set_followers
from atende.tickets.tests.factories import make_ticket


@pytest.mark.parametrize(("kind", "raw", "stored"), [
    ("email", "  Ana@Example.COM ", "ana@example.com"),
    ("phone", "+55 11 91234-5678", "+5511912345678"),
    ("phone", "(11) 91234-5678", "+5511912345678"),  # ATENDE_PHONE_REGION=BR
    ("phone", "+1 650-253-0000", "+16502530000"),
    ("whatsapp", "5511912345678", "+5511912345678"),
    ("whatsapp", "+55 (11) 91234 5678", "+5511912345678"),
    ("telegram", " 123456789 ", "123456789"),
    ("chat", "visitor-3f2a", "visitor-3f2a"),
])
def test_identities_are_stored_in_one_spelling(kind, raw, stored):
    assert normalize_identity(kind, raw) == stored


@pytest.mark.parametrize(("kind", "raw"), [
    ("email", ""), ("email", "no-at-sign"), ("email", "a b@c.d"), ("email", "@x.com"),
    ("phone", ""), ("phone", "12"), ("phone", "+99 123"), ("phone", "call me"), ("phone", "+55 11 1234"),
    ("whatsapp", "abc"), ("telegram", "@someone"), ("telegram", "12ab"), ("chat", "has space"), ("chat", "x" * 201),
    ("fax", "123"),
])
def test_bad_identities_are_refused_with_a_reason(kind, raw):
    with pytest.raises(ValidationError) as caught:
        normalize_identity(kind, raw)
    assert caught.value.message


@hyp_settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(list(IdentityKind.values)), raw=st.text(max_size=60))
def test_normalising_any_text_either_refuses_or_is_stable(kind, raw):
    """A normalised value normalises to itself (so lookups by a stored value always find it)."""
    try:
        value = normalize_identity(kind, raw)
    except ValidationError:
        return
    assert normalize_identity(kind, value) == value


def test_find_or_create_makes_a_phone_only_customer_and_finds_them_again(db):
    customer = customer_find_or_create(kind="phone", value="(11) 91234-5678", name="Zé")
    assert customer.email is None and customer.is_customer and customer.display_name == "Zé"
    assert list(customer.identities.values_list("kind", "value")) == [("phone", "+5511912345678")]
    assert customer_find_or_create(kind="phone", value="+55 11 91234 5678") == customer
    assert User.objects.filter(role="customer").count() == 1


def test_whatsapp_number_known_as_phone_finds_that_customer_and_adds_the_handle(db):
    customer = customer_find_or_create(kind="phone", value="+5511912345678")
    assert customer_find_or_create(kind="whatsapp", value="5511912345678") == customer
    assert set(customer.identities.values_list("kind", flat=True)) == {"phone", "whatsapp"}


def test_email_customer_gets_a_primary_identity_and_joins_the_domain_organisation(db):
    domain = OrganizationDomainFactory(domain="acme.example")
    customer = customer_get_or_create(email="Bob@Acme.example", name="Bob")
    assert customer.email == "bob@acme.example" and customer.organization == domain.organization
    identity = customer.identities.get()
    assert (identity.kind, identity.value, identity.is_primary) == ("email", "bob@acme.example", True)


def test_the_domain_organisations_are_kept_per_process_and_follow_every_change(db, django_assert_num_queries):
    """New customers' domains are looked up once per process; an organisation created through the service applies
    at once, and one whose domain another process added applies once that process's commit replaced the token."""
    customer_get_or_create(email="first@later.example")
    commit_generation_changes()
    with django_assert_num_queries(0):
        assert organization_id_for_email("second@later.example") is None  # the process's copy
    org = organization_create(name="Later", domains=["later.example"])
    assert customer_get_or_create(email="third@later.example").organization_id == org.pk
    commit_generation_changes()
    assert organization_id_for_email("a@elsewhere.example") is None
    domain = OrganizationDomainFactory(domain="elsewhere.example")  # as another process writes it
    assert organization_id_for_email("b@elsewhere.example") is None  # the copy, until that process commits
    another_process_commits(ORGANIZATION_DOMAINS)
    assert organization_id_for_email("c@elsewhere.example") == domain.organization_id


def test_a_secondary_address_finds_its_customer_everywhere(db, agent):
    customer = customer_get_or_create(email="main@example.com")
    identity_add(customer=customer, kind="email", value="Other@Example.com", actor=Actor.for_user(agent))
    assert customer_for_identity(kind="email", value="other@example.com") == customer
    assert customer_get_or_create(email="OTHER@example.com") == customer
    with pytest.raises(ValidationError) as caught:
        user_create(email="other@example.com", name="Impostor")
    assert caught.value.code == "email_taken"


def test_agents_are_found_by_their_login_address(db, agent):
    assert customer_for_identity(kind="email", value=agent.email.upper()) == agent


def test_identity_taken_by_another_customer_is_refused(db, agent):
    first = customer_find_or_create(kind="telegram", value="42")
    second = customer_get_or_create(email="two@example.com")
    with pytest.raises(Conflict) as caught:
        identity_add(customer=second, kind="telegram", value="42", actor=Actor.for_user(agent))
    assert caught.value.code == "identity_taken" and caught.value.details["owner_id"] == first.pk
    assert not second.identities.filter(kind="telegram").exists()


def test_adding_an_address_to_a_phone_only_customer_makes_it_primary_and_records_an_event(db, agent):
    customer = customer_find_or_create(kind="phone", value="+5511912345678")
    identity_add(customer=customer, kind="email", value="Ze@Example.com", actor=Actor.for_user(agent))
    customer.refresh_from_db()
    assert customer.email == "ze@example.com"
    assert customer.identities.get(kind="email").is_primary
    event = CustomerEvent.objects.get(customer=customer)
    assert (event.type, event.actor_user, event.data) == (
        CustomerEventType.IDENTITY_ADDED, agent, {"kind": "email", "value": "ze@example.com"})


def test_removing_the_primary_address_promotes_the_next_one(db, agent):
    actor = Actor.for_user(agent)
    customer = customer_get_or_create(email="a@example.com")
    identity_add(customer=customer, kind="email", value="b@example.com", actor=actor)
    identity_remove(identity=customer.identities.get(value="a@example.com"), actor=actor)
    customer.refresh_from_db()
    assert customer.email == "b@example.com" and customer.identities.get().is_primary
    with pytest.raises(Conflict) as caught:
        identity_remove(identity=customer.identities.get(), actor=actor)
    assert caught.value.code == "last_identity"


def test_customers_and_collaborators_cannot_change_identities(db, collaborator):
    customer = customer_get_or_create(email="a@example.com")
    for actor in (Actor.for_user(customer), Actor.for_user(collaborator), Actor.system()):
        with pytest.raises(PermissionDenied):
            identity_add(customer=customer, kind="phone", value="+5511912345678", actor=actor)


def test_merge_moves_tickets_messages_identities_and_history_in_one_event(db, agent, team):
    actor = Actor.for_user(agent)
    survivor = customer_get_or_create(email="ana@example.com", name="Ana")
    duplicate = customer_find_or_create(kind="whatsapp", value="5511912345678", name="Ana WhatsApp")
    ours = make_ticket(requester=survivor)
    theirs = make_ticket(requester=duplicate)
    message_add_reply(ticket=theirs, actor=Actor.for_user(duplicate), body_text="still broken")
    followed = make_ticket(requester=CustomerFactory())
    ticket_set_followers(ticket=followed, followers=[survivor, duplicate], actor=actor)

    customer_merge(source=duplicate, target=survivor, actor=actor)

    duplicate.refresh_from_db()
    assert not duplicate.is_active and duplicate.merged_into == survivor and duplicate.email is None
    assert set(survivor.requested_tickets.values_list("pk", flat=True)) == {ours.pk, theirs.pk}
    assert not Message.objects.filter(author=duplicate).exists()
    assert Message.objects.filter(ticket=theirs, author=survivor).count() == 2
    assert not TicketEvent.objects.filter(actor_user=duplicate).exists()
    assert set(survivor.identities.values_list("kind", "value")) == {
        ("email", "ana@example.com"), ("whatsapp", "+5511912345678")}
    assert customer_for_identity(kind="whatsapp", value="5511912345678") == survivor
    # The survivor already followed that ticket: the duplicate row is kept (on the merged account), not lost.
    assert TicketFollower.objects.filter(ticket=followed, user=survivor).count() == 1
    event = CustomerEvent.objects.get(customer=survivor, type=CustomerEventType.MERGED_FROM)
    assert event.data["source"]["id"] == duplicate.pk
    assert event.data["moved"]["tickets.ticket.requester"] == 1
    assert event.data["kept_on_source"] == {"tickets.ticketfollower.user": 1}
    assert CustomerEvent.objects.filter(type=CustomerEventType.MERGED_FROM).count() == 1


def test_merge_adopts_the_address_of_a_phone_only_survivor(db, agent):
    survivor = customer_find_or_create(kind="phone", value="+5511912345678")
    duplicate = customer_get_or_create(email="ana@example.com")
    customer_merge(source=duplicate, target=survivor, actor=Actor.for_user(agent))
    survivor.refresh_from_db()
    assert survivor.email == "ana@example.com"
    assert survivor.identities.get(kind="email").is_primary


def test_merge_rolls_back_entirely_when_refused(db, agent):
    customer = customer_get_or_create(email="ana@example.com")
    with pytest.raises(ValidationError):
        customer_merge(source=customer, target=agent, actor=Actor.for_user(agent))
    customer.refresh_from_db()
    assert customer.is_active and customer.identities.count() == 1
    with pytest.raises(ValidationError):
        customer_merge(source=customer, target=customer, actor=Actor.for_user(agent))


def test_merge_leaves_credentials_with_the_merged_account(db, agent):
    from atende.api.services import api_token_create

    survivor = customer_get_or_create(email="a@example.com")
    duplicate = customer_get_or_create(email="b@example.com")
    api_token_create(actor=Actor.for_user(duplicate), user=duplicate, name="bridge")
    customer_merge(source=duplicate, target=survivor, actor=Actor.for_user(agent))
    assert duplicate.api_tokens.count() == 1 and survivor.api_tokens.count() == 0


def test_merged_identities_stay_unique(db, agent):
    survivor = customer_get_or_create(email="a@example.com")
    duplicate = customer_get_or_create(email="b@example.com")
    customer_merge(source=duplicate, target=survivor, actor=Actor.for_user(agent))
    assert ContactIdentity.objects.filter(value="b@example.com").count() == 1
    assert survivor.identities.filter(is_primary=True).count() == 1

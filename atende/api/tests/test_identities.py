"""Identity and merge endpoints: permissions, 201/409 JSON errors, and what the database holds afterwards."""

import pytest

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import ContactIdentity, CustomerEvent
from atende.accounts.services import customer_get_or_create
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def ana(db):
    return customer_get_or_create(email="ana@example.com", name="Ana")


def test_agent_adds_lists_and_removes_identities(ana, agent, api_as):
    api = api_as(agent)
    created = api.post(f"/customers/{ana.pk}/identities", {"kind": "phone", "value": "(11) 91234-5678"})
    assert created.status_code == 201 and created.json()["value"] == "+5511912345678"
    listed = api.get(f"/customers/{ana.pk}/identities").json()
    assert [(i["kind"], i["value"], i["is_primary"]) for i in listed] == [
        ("email", "ana@example.com", True), ("phone", "+5511912345678", False)]
    assert api.delete(f"/customers/{ana.pk}/identities/{created.json()['id']}").status_code == 204
    assert not ContactIdentity.objects.filter(kind="phone").exists()


def test_identity_of_someone_else_is_a_409_with_the_reason(ana, agent, api_as):
    other = customer_find_or_create(kind="telegram", value="777")
    response = api_as(agent).post(f"/customers/{ana.pk}/identities", {"kind": "telegram", "value": "777"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "identity_taken" and error["details"]["owner_id"] == other.pk


@pytest.mark.parametrize(("kind", "value"), [("phone", "not a number"), ("email", "nope"), ("telegram", "@x")])
def test_invalid_identity_is_a_422(ana, agent, api_as, kind, value):
    response = api_as(agent).post(f"/customers/{ana.pk}/identities", {"kind": kind, "value": value})
    assert response.status_code == 422 and response.json()["error"]["message"]


def test_unknown_kind_is_refused_by_the_schema(ana, agent, api_as):
    response = api_as(agent).post(f"/customers/{ana.pk}/identities", {"kind": "fax", "value": "1"})
    assert response.status_code in (400, 422) and "error" in response.json()


def test_customers_read_their_own_identities_but_cannot_change_them(ana, other_customer, api_as):
    assert api_as(ana).get(f"/customers/{ana.pk}/identities").status_code == 200
    assert api_as(other_customer).get(f"/customers/{ana.pk}/identities").status_code == 404
    response = api_as(ana).post(f"/customers/{ana.pk}/identities", {"kind": "phone", "value": "+5511912345678"})
    assert response.status_code == 403


def test_merge_endpoint_moves_tickets_and_records_one_event(ana, agent, api_as):
    duplicate = customer_find_or_create(kind="whatsapp", value="5511912345678")
    ticket = make_ticket(requester=duplicate)
    response = api_as(agent).post(f"/customers/{ana.pk}/merge", {"source_id": duplicate.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["merged_id"] == duplicate.pk
    assert {i["kind"] for i in body["identities"]} == {"email", "whatsapp"}
    ticket.refresh_from_db()
    assert ticket.requester_id == ana.pk
    assert CustomerEvent.objects.filter(customer=ana, type="MERGED_FROM").count() == 1
    again = api_as(agent).post(f"/customers/{ana.pk}/merge", {"source_id": duplicate.pk})
    assert again.status_code == 409 and again.json()["error"]["code"] == "merge_inactive"


def test_merge_needs_an_agent(ana, other_customer, collaborator, api_as):
    for user in (ana, collaborator):
        response = api_as(user).post(f"/customers/{ana.pk}/merge", {"source_id": other_customer.pk})
        assert response.status_code in (403, 404)
    other_customer.refresh_from_db()
    assert other_customer.is_active

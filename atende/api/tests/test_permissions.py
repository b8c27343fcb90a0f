"""The permission matrix: every endpoint × anonymous, a customer of the same organisation (which does not share
tickets), a customer of another organisation, the requester, an agent restricted to teams they are not in,
an agent of the ticket's team, an administrator. "Not yours" answers like "missing" (404)."""

from __future__ import annotations

import pytest
from django.db import transaction

from atende.core.actor import Actor
from atende.tickets.services import IncomingFile, message_add_reply, ticket_link
from atende.tickets.tests.factories import make_ticket

ROLES = ["anonymous", "org_mate", "foreign_customer", "customer", "restricted_agent", "agent", "admin"]


def _expect(anonymous, org_mate, foreign, customer, restricted, agent, admin):
    return dict(zip(ROLES, [anonymous, org_mate, foreign, customer, restricted, agent, admin], strict=True))


# (name, method, path, body, expected status per role)
MATRIX = [
    ("ticket list", "get", "/tickets", None, _expect(401, 200, 200, 200, 200, 200, 200)),
    ("ticket read", "get", "/tickets/{ticket}", None, _expect(401, 404, 404, 200, 404, 200, 200)),
    ("ticket update", "patch", "/tickets/{ticket}", {"priority": "high"}, _expect(401, 404, 404, 403, 404, 200, 200)),
    ("transition options", "get", "/tickets/{ticket}/transitions", None, _expect(401, 404, 404, 200, 404, 200, 200)),
    ("transition", "post", "/tickets/{ticket}/transitions", {"status": "pending"},
     _expect(401, 404, 404, 403, 404, 200, 200)),
    ("merge", "post", "/tickets/{ticket}/merge", {"target_id": "{other}"}, _expect(401, 404, 404, 403, 404, 200, 200)),
    ("links", "get", "/tickets/{ticket}/links", None, _expect(401, 404, 404, 200, 404, 200, 200)),
    ("link add", "post", "/tickets/{other}/links", {"target_id": "{third}", "kind": "related"},
     _expect(401, 404, 404, 403, 404, 201, 201)),
    ("link remove", "delete", "/tickets/{ticket}/links/{link}", None, _expect(401, 404, 404, 403, 404, 204, 204)),
    ("events", "get", "/tickets/{ticket}/events", None, _expect(401, 404, 404, 200, 404, 200, 200)),
    ("messages", "get", "/tickets/{ticket}/messages", None, _expect(401, 404, 404, 200, 404, 200, 200)),
    ("reply", "post", "/tickets/{ticket}/messages", {"body": "Any news?"}, _expect(401, 404, 404, 201, 404, 201, 201)),
    ("note", "post", "/tickets/{ticket}/messages", {"kind": "note", "body": "psst"},
     _expect(401, 404, 404, 403, 404, 201, 201)),
    ("attachment", "get", "/attachments/{attachment}", None, _expect(401, 404, 404, 200, 404, 200, 200)),
    ("attachment content", "get", "/attachments/{attachment}/content", None,
     _expect(401, 404, 404, 200, 404, 200, 200)),
    ("survey", "get", "/tickets/{ticket}/survey", None, _expect(401, 404, 404, 404, 404, 404, 404)),
    ("customer read", "get", "/customers/{customer}", None, _expect(401, 404, 404, 200, 200, 200, 200)),
    ("customer update", "patch", "/customers/{customer}", {"phone": "+55 11 5555"},
     _expect(401, 404, 404, 200, 200, 200, 200)),
    ("customer list", "get", "/customers", None, _expect(401, 200, 200, 200, 200, 200, 200)),
    ("customer create", "post", "/customers", {"email": "new@x.example"}, _expect(401, 403, 403, 403, 201, 201, 201)),
    ("organisation read", "get", "/organizations/{organization}", None, _expect(401, 200, 404, 200, 200, 200, 200)),
    ("organisation create", "post", "/organizations", {"name": "Newco"}, _expect(401, 403, 403, 403, 403, 403, 201)),
    ("teams", "get", "/teams", None, _expect(401, 403, 403, 403, 200, 200, 200)),
    ("team read", "get", "/teams/{team}", None, _expect(401, 404, 404, 404, 200, 200, 200)),
    ("agents", "get", "/agents", None, _expect(401, 403, 403, 403, 200, 200, 200)),
    ("tags", "get", "/tags", None, _expect(401, 403, 403, 403, 200, 200, 200)),
    ("categories", "get", "/categories", None, _expect(401, 200, 200, 200, 200, 200, 200)),
    ("custom fields", "get", "/custom-fields", None, _expect(401, 200, 200, 200, 200, 200, 200)),
    ("me", "get", "/me", None, _expect(401, 200, 200, 200, 200, 200, 200)),
    ("webhooks", "get", "/webhooks", None, _expect(401, 403, 403, 403, 403, 403, 200)),
    ("webhook create", "post", "/webhooks", {"name": "x", "url": "http://127.0.0.1:9/x", "event_types": ["*"]},
     _expect(401, 403, 403, 403, 403, 403, 201)),
    ("privacy export", "get", "/privacy/customers/{customer}/export", None,
     _expect(401, 403, 403, 403, 403, 403, 200)),
    ("privacy erase", "post", "/privacy/customers/{customer}/erase", None,
     _expect(401, 403, 403, 403, 403, 403, 200)),
    ("survey list", "get", "/surveys", None, _expect(401, 200, 200, 200, 200, 200, 200)),
    ("survey summary", "get", "/surveys/summary", None, _expect(401, 403, 403, 403, 200, 200, 200)),
]


@pytest.fixture
def world(customer, team, agent, admin_user, restricted_agent, org_mate, foreign_customer):
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team)
    other = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject="Other")
    third = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject="Third")
    link = ticket_link(source=ticket, target=third, kind="related", actor=Actor.for_user(agent))
    message = message_add_reply(ticket=ticket, actor=Actor.for_user(customer),
                                attachments=[IncomingFile("log.txt", b"boom", "text/plain")], body_text="Log")
    people = {"anonymous": None, "org_mate": org_mate, "foreign_customer": foreign_customer, "customer": customer,
              "restricted_agent": restricted_agent, "agent": agent, "admin": admin_user}
    ids = {"ticket": ticket.pk, "other": other.pk, "third": third.pk, "link": link.pk,
           "attachment": message.attachments.get().pk, "customer": customer.pk,
           "organization": customer.organization_id, "team": team.pk}
    return people, ids


def _fill(value, ids):
    if isinstance(value, str):
        formatted = value.format(**ids)
        return int(formatted) if value.startswith("{") and formatted.isdigit() else formatted
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
def test_permission_matrix(world, api_as, name, method, path, body, expected):
    """Each role's request runs in a savepoint that is rolled back, so every role meets the same state."""
    people, ids = world
    clients = {role: api_as(people[role], "admin" if role == "admin" else "write") for role in ROLES}
    url = path.format(**ids)
    got, errors = {}, {}
    for role in ROLES:
        with transaction.atomic():
            if method in ("get", "delete"):
                response = getattr(clients[role], method)(url)
            else:
                response = getattr(clients[role], method)(url, _fill(body, ids) or {})
            transaction.set_rollback(True)
        got[role] = response.status_code
        if response.status_code >= 400:
            errors[role] = response.json()["error"]
    assert got == expected, name
    for error in errors.values():
        assert set(error) == {"code", "message", "details"}


@pytest.mark.parametrize(("name", "method", "path", "body"), [
    ("ticket update", "patch", "/tickets/{ticket}", {"priority": "high"}),
    ("reply", "post", "/tickets/{ticket}/messages", {"body": "hi"}),
    ("ticket create", "post", "/tickets", {"subject": "s", "body": "b", "requester_id": "{customer}"}),
    ("webhook create", "post", "/webhooks", {"name": "x", "url": "http://127.0.0.1:9/", "event_types": ["*"]}),
])
def test_read_only_token_is_refused_on_writes(world, api_as, name, method, path, body):
    people, ids = world
    for role in ("customer", "agent", "admin"):
        response = getattr(api_as(people[role], "read"), method)(path.format(**ids), _fill(body, ids))
        assert response.status_code == 403, (name, role)
        assert response.json()["error"]["code"] == "insufficient_scope"


def test_admin_endpoints_need_an_admin_scoped_token(world, api_as):
    people, ids = world
    response = api_as(people["admin"], "write").get("/webhooks")
    assert response.status_code == 403 and response.json()["error"]["code"] == "insufficient_scope"
    assert api_as(people["admin"], "admin").get("/webhooks").status_code == 200


def test_ticket_list_shows_only_what_each_person_may_see(world, api_as):
    people, ids = world
    mine = {ids["ticket"], ids["other"], ids["third"]}
    seen = {role: {t["id"] for t in api_as(people[role]).get("/tickets").json()["items"]}
            for role in ROLES if role != "anonymous"}
    assert seen["customer"] == mine
    assert seen["org_mate"] == seen["foreign_customer"] == seen["restricted_agent"] == set()
    assert seen["agent"] == seen["admin"] == mine


def test_customer_sees_no_internal_notes(world, api_as):
    people, ids = world
    api_as(people["agent"]).post(f"/tickets/{ids['ticket']}/messages", {"kind": "note", "body": "secret"})
    bodies = [m["body_text"] for m in api_as(people["customer"]).get(f"/tickets/{ids['ticket']}/messages")
              .json()["items"]]
    assert "secret" not in bodies and "Log" in bodies
    agent_bodies = [m["body_text"] for m in api_as(people["agent"]).get(f"/tickets/{ids['ticket']}/messages")
                    .json()["items"]]
    assert "secret" in agent_bodies

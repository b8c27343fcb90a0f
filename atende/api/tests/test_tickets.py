"""Ticket endpoints: pagination, filters, search, fields/expand, creation as a channel, updates and errors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.models import ContactIdentity
from atende.core.actor import Actor
from atende.core.testing.plans import sqlite_full_scans
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def many(customer, agent, team):
    return [make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject=f"Ticket {i}",
                        tags=["vip"] if i % 2 else [], priority="high" if i < 3 else None) for i in range(7)]


def test_cursor_pagination_walks_every_ticket_once(many, api_as, agent, django_assert_max_num_queries):
    client = api_as(agent)
    seen, cursor = [], None
    while True:
        with django_assert_max_num_queries(12):
            page = client.get("/tickets", {"size": 3, "order": "id", **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        assert page["has_next"] == (cursor is not None)
        if not cursor:
            break
    assert seen == sorted(t.pk for t in many)


def test_bad_cursor_is_a_422(api_as, agent, db):
    response = api_as(agent).get("/tickets", {"cursor": "nonsense"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_cursor"


def test_filters_use_the_console_filters(many, api_as, agent):
    client = api_as(agent)
    vip = client.get("/tickets", {"tags": "vip"}).json()["items"]
    assert {t["id"] for t in vip} == {t.pk for t in many if t.tags.filter(name="vip").exists()}
    high = client.get("/tickets", {"priority": "high", "status": "unsolved"}).json()["items"]
    assert len(high) == 3
    mine = client.get("/tickets", {"team": "mine", "assignee": "none"}).json()["items"]
    assert len(mine) == 7
    bad = client.get("/tickets", {"status": "lost"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_filter"


def test_search_finds_text_and_respects_visibility(api_as, customer, other_customer, agent, db,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the search index follows committed events
        mine = make_ticket(requester=customer, subject="Router keeps rebooting", body="The flux capacitor hums")
        make_ticket(requester=other_customer, subject="Flux capacitor for sale")
    hits = api_as(customer).get("/tickets", {"q": "capacitor"}).json()["items"]
    assert [h["id"] for h in hits] == [mine.pk]
    assert len(api_as(agent).get("/tickets", {"q": "capacitor"}).json()["items"]) == 2
    mixed = api_as(agent).get("/tickets", {"q": "capacitor", "status": "new"})
    assert mixed.status_code == 422


@pytest.mark.parametrize("expand", ["", "requester"])
def test_search_query_count_does_not_grow_with_the_page(api_as, customer, agent, team, db, expand,
                                                        django_capture_on_commit_callbacks):
    """Hits carry only the list columns; every field of the API must come from one reload, not per ticket."""
    def counted(n_tickets):
        with django_capture_on_commit_callbacks(execute=True):
            for i in range(n_tickets):
                make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject=f"Gearbox {i}",
                            body="gearbox grinds",
                            tags=["vip"])
        client = api_as(agent)
        client.get("/tickets", {"q": "gearbox", "expand": expand})  # warm caches (branding, token)
        with CaptureQueriesContext(connection) as captured:
            body = client.get("/tickets", {"q": "gearbox", "size": 100, "expand": expand}).json()
        assert all(item["tags"] == ["vip"] and item["subject"].startswith("Gearbox") for item in body["items"])
        return len(body["items"]), len(captured)

    few, queries_few = counted(2)
    many, queries_many = counted(10)
    assert (few, many) == (2, 12)
    assert queries_many == queries_few


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_external_id_filter_reads_the_partial_index(api_as, agent, db):
    with CaptureQueriesContext(connection) as captured:
        response = api_as(agent).get("/tickets", {"external_id": "crm-42"})
    assert response.status_code == 200 and response.json()["items"] == []
    assert sqlite_full_scans(captured.captured_queries, mentioning="external_id", tables=("tickets_ticket",)) == []


def test_fields_and_expand(ticket, api_as, agent):
    body = api_as(agent).get(f"/tickets/{ticket.pk}", {"fields": "subject,status", "expand": "requester"}).json()
    assert set(body) == {"id", "subject", "status", "requester"}
    assert body["requester"]["email"] == ticket.requester.email
    assert api_as(agent).get(f"/tickets/{ticket.pk}", {"fields": "secret"}).status_code == 422
    assert api_as(agent).get(f"/tickets/{ticket.pk}", {"expand": "everything"}).status_code == 422


def test_times_are_iso_utc(ticket, api_as, agent):
    created = api_as(agent).get(f"/tickets/{ticket.pk}").json()["created_at"]
    assert created.endswith("Z") and "T" in created


def test_customer_opens_ticket_through_the_api_channel(api_as, customer):
    response = api_as(customer).post("/tickets", {"subject": "Need help", "body": "Please", "channel": "messaging",
                                                  "external_id": "conv-1"})
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.requester == customer and ticket.channel == "messaging" and ticket.external_id == "conv-1"
    assert TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.TICKET_CREATED,
                                      actor_kind="customer").exists()
    # customers cannot open for someone else or set agent-only fields
    assert api_as(customer).post("/tickets", {"subject": "x", "body": "y", "requester_email": "boss@x.example"}
                                 ).status_code == 403
    denied = api_as(customer).post("/tickets", {"subject": "x", "body": "y", "priority": "urgent"})
    assert denied.status_code == 422 and denied.json()["error"]["code"] == "forbidden_fields"


def test_agent_opens_ticket_for_a_new_customer_by_email(api_as, agent, team):
    response = api_as(agent).post("/tickets", {"subject": "Call from Ana", "body": "She called",
                                               "requester_email": "ana@new.example", "team_id": team.pk,
                                               "tags": ["phone"]})
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.requester.email == "ana@new.example" and ticket.team == team and ticket.channel == "api"
    missing = api_as(agent).post("/tickets", {"subject": "x", "body": "y"})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "requester_required"
    unknown_team = api_as(agent).post("/tickets", {"subject": "x", "body": "y", "requester_email": "a@b.example",
                                                   "team_id": 99999})
    assert unknown_team.status_code == 422 and unknown_team.json()["error"]["code"] == "unknown_team"


def test_update_with_stale_version_is_409(ticket, api_as, agent):
    client = api_as(agent)
    current = client.get(f"/tickets/{ticket.pk}").json()["version"]
    first = client.patch(f"/tickets/{ticket.pk}", {"priority": "urgent", "version": current})
    assert first.status_code == 200 and first.json()["priority"] == "urgent"
    assert first.json()["version"] > current
    stale = client.patch(f"/tickets/{ticket.pk}", {"subject": "Changed", "version": current})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert stale.json()["error"]["details"]["current_version"] == first.json()["version"]
    via_header = client.patch(f"/tickets/{ticket.pk}", {"subject": "Changed"}, headers={"If-Match": f'"{current}"'})
    assert via_header.status_code == 409
    ticket.refresh_from_db()
    assert ticket.subject != "Changed"


def test_invalid_transition_is_409_and_unknown_status_422(ticket, api_as, agent):
    client = api_as(agent)
    assert client.post(f"/tickets/{ticket.pk}/transitions", {"status": "solved"}).status_code == 200
    closed = client.post(f"/tickets/{ticket.pk}/transitions", {"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"/tickets/{ticket.pk}/transitions", {"status": "open"})
    assert again.status_code == 409 and again.json()["error"]["code"] in ("invalid_transition", "ticket_closed")
    assert client.post(f"/tickets/{ticket.pk}/transitions", {"status": "lost"}).status_code == 422


def test_malformed_body_is_422_in_the_error_shape(ticket, api_as, agent):
    response = api_as(agent).client.post(f"/api/v1/tickets/{ticket.pk}/messages", "{not json",
                                         content_type="application/json",
                                         headers={"Authorization": api_as(agent).client and
                                                  f"Bearer {api_as(agent).token}"})
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_merge_and_links(api_as, agent, customer, team):
    source = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject="Dup")
    target = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, subject="Main")
    client = api_as(agent)
    link = client.post(f"/tickets/{source.pk}/links", {"target_id": target.pk, "kind": "duplicate"})
    assert link.status_code == 201 and link.json()["kind"] == "duplicate"
    assert [lk["id"] for lk in client.get(f"/tickets/{target.pk}/links").json()] == [link.json()["id"]]
    merged = client.post(f"/tickets/{source.pk}/merge", {"target_id": target.pk})
    assert merged.status_code == 200 and merged.json()["id"] == target.pk
    source.refresh_from_db()
    assert source.merged_into_id == target.pk and source.status == "closed"
    assert client.post(f"/tickets/{source.pk}/merge", {"target_id": source.pk}).status_code == 422


def test_reply_with_attachment_by_multipart_and_download(ticket, api_as, customer, agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("trace.txt", b"stack trace here", content_type="text/plain")
    response = api_as(customer).post_multipart(f"/tickets/{ticket.pk}/messages/multipart",
                                               {"body": "See the trace", "attachments": [upload]})
    assert response.status_code == 201, response.content
    attachment = response.json()["attachments"][0]
    assert attachment["filename"] == "trace.txt" and attachment["size"] == 16
    content = api_as(agent).get(f"/attachments/{attachment['id']}/content")
    assert content.status_code == 200 and b"".join(content.streaming_content) == b"stack trace here"
    assert Attachment.objects.get(pk=attachment["id"]).message.body_text == "See the trace"


def test_multipart_ticket_create_with_files(api_as, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_as(customer).post_multipart("/tickets/multipart", {
        "subject": "Screenshot", "body": "attached",
        "attachments": [SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\nxx", content_type="image/png")]})
    assert response.status_code == 201, response.content
    assert Ticket.objects.get(pk=response.json()["id"]).attachments.count() == 1


def test_agent_reply_sets_status_and_customer_reply_reopens(ticket, api_as, agent, customer):
    reply = api_as(agent).post(f"/tickets/{ticket.pk}/messages", {"body": "Which model?", "status": "pending"})
    assert reply.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    api_as(customer).post(f"/tickets/{ticket.pk}/messages", {"body": "Model X"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert api_as(customer).post(f"/tickets/{ticket.pk}/messages", {"body": "x", "status": "solved"}
                                 ).status_code == 422


def test_event_log_lists_raw_changes(ticket, api_as, agent, customer):
    api_as(agent).patch(f"/tickets/{ticket.pk}", {"priority": "urgent"})
    events = api_as(agent).get(f"/tickets/{ticket.pk}/events", {"type": "PRIORITY_CHANGED"}).json()["items"]
    assert events[0]["data"]["new"] == "urgent" and events[0]["actor"]["id"] == agent.pk
    assert api_as(customer).get(f"/tickets/{ticket.pk}/events").json()["items"] == []


def test_messaging_channel_threads_by_external_ids(api_as, customer, agent):
    client = api_as(customer)
    first = client.post("/messaging/messages", {"thread_id": "wa-42", "message_id": "m1", "body": "Hello?"})
    assert first.status_code == 201
    ticket = Ticket.objects.get(pk=first.json()["ticket_id"])
    assert ticket.channel == "messaging" and ticket.external_id == "wa-42"
    second = client.post("/messaging/messages", {"thread_id": "wa-42", "message_id": "m2", "body": "Anyone?"})
    assert second.status_code == 201 and second.json()["ticket_id"] == ticket.pk
    repeat = client.post("/messaging/messages", {"thread_id": "wa-42", "message_id": "m2", "body": "Anyone?"})
    assert repeat.status_code == 200 and repeat.json()["id"] == second.json()["id"]
    assert Message.objects.filter(ticket=ticket).count() == 2
    # the support team answers through the API; the conversation continues on the same ticket
    api_as(agent).post(f"/tickets/{ticket.pk}/messages", {"body": "Hi! How can we help?"})
    third = client.post("/messaging/messages", {"thread_id": "wa-42", "message_id": "m3", "body": "Billing"})
    assert third.json()["ticket_id"] == ticket.pk
    other = client.post("/messaging/messages", {"thread_id": "wa-43", "message_id": "m1", "body": "New topic"})
    assert other.json()["ticket_id"] != ticket.pk
    assert api_as(agent).post("/messaging/messages", {"thread_id": "t", "message_id": "m", "body": "x"}
                              ).status_code == 403


def test_customer_profile_and_lists(api_as, customer, agent, foreign_customer):
    listed = api_as(agent).get("/customers", {"q": customer.email}).json()["items"]
    assert [c["id"] for c in listed] == [customer.pk]
    assert [c["id"] for c in api_as(customer).get("/customers").json()["items"]] == [customer.pk]
    created = api_as(agent).post("/customers", {"email": "New.Person@Example.com", "name": "New"})
    assert created.status_code == 201 and created.json()["email"] == "new.person@example.com"
    assert api_as(agent).post("/customers", {"email": "new.person@example.com"}).status_code == 200
    assert api_as(agent).post("/customers", {"email": "not-an-email"}).status_code == 422


def test_opening_a_ticket_for_a_known_customer_takes_a_fixed_small_number_of_queries(
        api_as, agent, django_assert_num_queries):
    """The token, the requester's identity, then the ticket, its message, event and search row (and, with tags,
    the tags and their links): the requester is found before the transaction, with no savepoint around it, the
    ticket settings are the process's copy, the service opens no savepoint of its own and the tags are not read
    back (20 statements before; 9 without tags before the settings were kept per process)."""
    client = api_as(agent)
    first = client.post("/tickets", {"subject": "First", "body": "Hello", "requester_email": "known@new.example"})
    requester_id = first.json()["requester_id"]
    sequence = 0 if connection.vendor == "sqlite" else 1  # PostgreSQL draws the number from its sequence first
    for i, tags in enumerate([[], ["billing"], ["billing", "Urgent Issue", "vip"]]):
        with django_assert_num_queries(6 + sequence + (3 if tags else 0)):
            response = client.post("/tickets", {"subject": f"Known {i}", "body": "Hello",
                                                "requester_email": "Known@New.example", "tags": tags})
        assert response.status_code == 201, response.content
        assert Ticket.objects.get(pk=response.json()["id"]).requester_id == requester_id


def test_opening_a_ticket_for_a_new_address_looks_the_address_up_once(api_as, agent):
    """A new requester is looked up before the transaction and then created, not looked up again inside it
    (where, on SQLite, every other writer waits): one identity and one login-address look-up per request."""
    client = api_as(agent)
    client.post("/tickets", {"subject": "Warm", "body": "Hello", "requester_email": "warm@new.example"})
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/tickets", {"subject": "New", "body": "Hello", "requester_name": "Nova Pessoa",
                                            "requester_email": " Nova.Pessoa@New.example "})
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.select_related("requester").get(pk=response.json()["id"])
    assert (ticket.requester.email, ticket.requester.name) == ("nova.pessoa@new.example", "Nova Pessoa")
    assert ContactIdentity.objects.filter(customer=ticket.requester, kind="email",
                                          value="nova.pessoa@new.example", is_primary=True).count() == 1
    lookups = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")
               and ('FROM "accounts_contactidentity"' in q["sql"] or 'FROM "accounts_user"' in q["sql"])]
    assert len(lookups) == 2, lookups
    # Then, in the API's transaction (a savepoint inside the test's): the customer in a savepoint of its own (so
    # that one created at the same moment by another request is found instead) and the ticket's four rows. No
    # read of the address's domain or of the ticket settings (the process's copies), no savepoint of the ticket's.
    kinds = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    sequence = [] if connection.vendor == "sqlite" else ["SELECT"]
    assert kinds == (["SELECT"] * 3 + ["SAVEPOINT", "SAVEPOINT", "INSERT", "INSERT", "RELEASE"] + sequence
                     + ["INSERT"] * 4 + ["RELEASE"]), [q["sql"][:200] for q in captured.captured_queries]


def test_two_requests_for_one_new_address_make_one_customer(api_as, agent):
    client = api_as(agent)
    for subject in ("One", "Two"):
        assert client.post("/tickets", {"subject": subject, "body": "b",
                                        "requester_email": "twice@new.example"}).status_code == 201
    requesters = set(Ticket.objects.filter(subject__in=["One", "Two"]).values_list("requester_id", flat=True))
    assert len(requesters) == 1


@pytest.mark.parametrize("tags", [[], ["b", "a"], [" Foo Bar ", "foo-bar", "ZED", ""], ["x" * 80, "ação", "a b c"]])
def test_the_created_ticket_answers_with_the_tags_it_was_stored_with(api_as, agent, tags):
    response = api_as(agent).post("/tickets", {"subject": "Tags", "body": "b", "requester_email": "t@new.example",
                                               "tags": tags})
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert response.json()["tags"] == sorted(t.name for t in ticket.tags.all())
    assert api_as(agent).get(f"/tickets/{ticket.pk}").json()["tags"] == response.json()["tags"]


def test_a_ticket_refused_for_a_new_address_leaves_no_customer_behind(api_as, agent):
    from atende.accounts.models import User
    refused = api_as(agent).post("/tickets", {"subject": "x", "body": "", "requester_email": "ghost@new.example"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "description_required"
    assert not User.objects.filter(email="ghost@new.example").exists()
    created = api_as(agent).post("/tickets", {"subject": "x", "body": "y", "requester_email": "Ghost@New.example"})
    assert created.status_code == 201
    assert User.objects.get(email="ghost@new.example").pk == created.json()["requester_id"]

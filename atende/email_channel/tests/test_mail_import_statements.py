"""What a group of ``mail-import`` costs the database per message (each statement a round trip on PostgreSQL),
and what the savings leave intact: the search index of the group's tickets, a sender created meanwhile."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import ContactIdentity, User
from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import InboundMessage
from atende.email_channel.tests.conftest import make_raw
from atende.tickets.models import Ticket
from atende.tickets.search import search_tickets


def _import(*paths) -> str:
    out = io.StringIO()
    call_command("mail-import", *map(str, paths), stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def _files(tmp_path, raws: list[bytes]) -> list:
    paths = []
    for i, raw in enumerate(raws):
        paths.append(tmp_path / f"{i:02d}-import.eml")
        paths[-1].write_bytes(raw)
    return paths


def _numbers(page) -> list[int]:
    return sorted(hit.ticket.number for hit in page.items)


@pytest.mark.django_db
def test_a_group_s_messages_each_take_one_savepoint_and_its_search_index_one_write(tmp_path, mailbox, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    (tmp_path / "warm.eml").write_bytes(make_raw(sender="warm@customer.example", message_id="<warm@x>"))
    _import(tmp_path / "warm.eml")
    paths = _files(tmp_path, [make_raw(sender=f"person{i}@customer.example", message_id=f"<n{i}@customer.example>",
                                       subject=f"Request {i}") for i in range(20)])
    with CaptureQueriesContext(connection) as captured:
        assert "20 tickets created" in _import(*paths)
    statements = [query["sql"] for query in captured.captured_queries]
    # Each message's own savepoint (its failure quarantines it alone), and the group's (inside the test's
    # transaction here); the new customer is created inside the message's, not in one of its own (41 savepoints
    # and 41 releases before). The group's 20 tickets are indexed together.
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 20 + 1
    assert sum("ticket_search" in sql for sql in statements) == 1  # 20 before
    assert InboundMessage.objects.filter(status=InboundStatus.TICKET_CREATED).count() == 21


@pytest.mark.django_db
def test_a_group_s_tickets_and_replies_are_found_by_search_and_a_message_rolled_back_is_not(
        tmp_path, mailbox, agent, monkeypatch, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    from atende.email_channel.services import inbound

    real = inbound._process

    def explodes_on_boom(row, parsed=None, **kwargs):
        real(row, parsed, **kwargs)
        if row.subject.startswith("Boom"):
            raise RuntimeError("a bug after the ticket was written")

    monkeypatch.setattr(inbound, "_process", explodes_on_boom)
    paths = _files(tmp_path, [
        make_raw(message_id="<first@customer.example>", subject="Zebra printer", body="The zebra jams."),
        make_raw(message_id="<boom@customer.example>", subject="Boom giraffe", body="Giraffe everywhere."),
        make_raw(message_id="<reply@customer.example>", subject="Re: Zebra printer", body="Now a walrus noise.",
                 headers={"In-Reply-To": "<first@customer.example>"}),
        make_raw(message_id="<boom2@customer.example>", subject="Boom again", body="Another walrus.",
                 headers={"In-Reply-To": "<first@customer.example>"}),
        make_raw(sender="other@customer.example", message_id="<second@customer.example>", subject="Okapi"),
    ])
    assert "1 replies threaded" in _import(*paths)
    zebra, okapi = Ticket.objects.order_by("id")
    assert _numbers(search_tickets(user=agent, query="zebra")) == [zebra.number]
    assert _numbers(search_tickets(user=agent, query="walrus")) == [zebra.number]
    assert _numbers(search_tickets(user=agent, query="okapi")) == [okapi.number]
    assert _numbers(search_tickets(user=agent, query="giraffe")) == []
    assert _numbers(search_tickets(user=agent, query="another")) == []
    assert zebra.messages.count() == 2


@pytest.mark.django_db
def test_a_sender_created_by_another_request_meanwhile_gets_the_message_and_no_second_account(
        tmp_path, mailbox, monkeypatch, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    from atende.email_channel.services import inbound_batch

    real_prefetch = inbound_batch.ImportBatch.prefetch_senders

    def prefetch_then_someone_else_creates(batch, addresses):  # found nobody, then the web created them
        real_prefetch(batch, addresses)
        customer_find_or_create(kind="email", value="race@customer.example", name="Created elsewhere")

    monkeypatch.setattr(inbound_batch.ImportBatch, "prefetch_senders", prefetch_then_someone_else_creates)
    paths = _files(tmp_path, [
        make_raw(sender="before@customer.example", message_id="<before@customer.example>", subject="Before"),
        make_raw(sender="race@customer.example", message_id="<race@customer.example>", subject="Raced"),
        make_raw(sender="after@customer.example", message_id="<after@customer.example>", subject="After"),
    ])
    assert "3 tickets created" in _import(*paths)
    raced = User.objects.get(email="race@customer.example")
    assert raced.name == "Created elsewhere"
    assert ContactIdentity.objects.filter(value="race@customer.example").count() == 1
    assert Ticket.objects.get(subject="Raced").requester_id == raced.pk
    rows = {row.subject: row for row in InboundMessage.objects.all()}
    assert {subject: row.status for subject, row in rows.items()} == {
        "Before": InboundStatus.TICKET_CREATED, "Raced": InboundStatus.TICKET_CREATED,
        "After": InboundStatus.TICKET_CREATED}
    assert rows["Raced"].ticket_id == Ticket.objects.get(subject="Raced").pk

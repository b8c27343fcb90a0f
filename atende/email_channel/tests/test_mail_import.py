"""``mail-import`` commits its messages in groups: what an admin sees stays what one message at a time gave."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import ContactIdentity, User
from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import InboundMessage
from atende.email_channel.tests.conftest import make_raw
from atende.tickets.models import Message, Ticket


def _mbox(*messages: bytes) -> bytes:
    return b"".join(b"From sender@example.org Mon Jan  1 00:00:00 2024\n" + m.replace(b"\r\n", b"\n") + b"\n"
                    for m in messages)


def _import(*paths) -> str:
    out = io.StringIO()
    call_command("mail-import", *map(str, paths), stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


@pytest.mark.django_db
def test_a_new_sender_becomes_one_customer_whatever_number_of_messages(tmp_path, mailbox):
    (tmp_path / "zoe.mbox").write_bytes(_mbox(*(
        make_raw(sender="zoe@new.example", message_id=f"<z{i}@new.example>", subject=f"Question {i}")
        for i in range(3))))
    assert "3 tickets created" in _import(tmp_path / "zoe.mbox")
    zoe = User.objects.get(email="zoe@new.example")
    assert zoe.name == "Ana Souza" and zoe.is_customer
    assert list(ContactIdentity.objects.filter(value="zoe@new.example").values_list("customer_id", flat=True)) == [
        zoe.pk]
    assert sorted(Ticket.objects.filter(requester=zoe).values_list("subject", flat=True)) == [
        "Question 0", "Question 1", "Question 2"]


@pytest.mark.django_db
def test_a_known_sender_writing_their_address_in_another_case_is_the_same_customer(tmp_path, mailbox):
    carla = customer_find_or_create(kind="email", value="carla@customer.example", name="Carla")
    users = User.objects.count()
    (tmp_path / "carla.eml").write_bytes(make_raw(sender="Carla@Customer.EXAMPLE", message_id="<c1@customer.example>"))
    assert "1 tickets created" in _import(tmp_path / "carla.eml")
    assert Ticket.objects.get().requester_id == carla.pk
    assert User.objects.count() == users


@pytest.mark.django_db
def test_a_message_that_fails_is_quarantined_with_its_reason_beside_the_good_ones_of_its_group(
        tmp_path, mailbox, monkeypatch, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    from atende.email_channel.services import inbound

    real = inbound._process

    def explodes_on_boom(row, parsed=None, **kwargs):
        real(row, parsed, **kwargs)
        if row.subject == "Boom":
            raise RuntimeError("a bug after the ticket was written")

    monkeypatch.setattr(inbound, "_process", explodes_on_boom)
    (tmp_path / "mixed.mbox").write_bytes(_mbox(
        make_raw(message_id="<good1@customer.example>", subject="Good one"),
        make_raw(message_id="<boom@customer.example>", subject="Boom"),
        b"Subject: no sender\r\n\r\nbody\r\n",
        make_raw(message_id="<good2@customer.example>", subject="Good two",
                 headers={"In-Reply-To": "<good1@customer.example>"})))
    summary = _import(tmp_path / "mixed.mbox")
    assert "4 messages: 4 stored, 1 tickets created, 1 replies threaded, 0 ignored, 2 quarantined" in summary
    rows = {row.subject: row for row in InboundMessage.objects.all()}
    boom, nosender = rows["Boom"], rows["no sender"]
    assert (boom.status, boom.reason) == (InboundStatus.QUARANTINED, "error")
    assert "a bug after the ticket was written" in boom.detail and boom.ticket_id is None
    assert (nosender.status, nosender.reason) == (InboundStatus.QUARANTINED, "no_sender")
    ticket = Ticket.objects.get()
    assert ticket.subject == "Good one"
    assert sorted(ticket.messages.values_list("external_id", flat=True)) == [
        "<good1@customer.example>", "<good2@customer.example>"]
    assert rows["Good two"].status == InboundStatus.REPLY_ADDED and rows["Good two"].ticket_id == ticket.pk
    assert not Message.objects.filter(external_id="<boom@customer.example>").exists()


@pytest.mark.django_db
def test_a_failing_message_that_reused_a_message_id_leaves_the_messages_before_it_done(
        tmp_path, mailbox, monkeypatch, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    (tmp_path / "earlier.eml").write_bytes(make_raw(message_id="<kept@customer.example>", subject="Earlier"))
    _import(tmp_path / "earlier.eml")
    from atende.email_channel.services import inbound

    real = inbound._process

    def explodes_on_boom(row, parsed=None, **kwargs):
        real(row, parsed, **kwargs)  # looks the reused Message-ID up: reads the outcomes of the messages before it
        if row.subject == "Boom":
            raise RuntimeError("a bug")

    monkeypatch.setattr(inbound, "_process", explodes_on_boom)
    (tmp_path / "good.eml").write_bytes(make_raw(message_id="<fresh@customer.example>", subject="Fresh"))
    (tmp_path / "boom.eml").write_bytes(make_raw(message_id="<kept@customer.example>", subject="Boom",
                                                 body="Other content"))
    assert _import(tmp_path / "good.eml", tmp_path / "boom.eml").endswith(
        "2 messages: 2 stored, 1 tickets created, 0 replies threaded, 0 ignored, 1 quarantined, 0 duplicates, "
        "0 not stored")
    assert not InboundMessage.objects.filter(status=InboundStatus.PENDING).exists()
    assert InboundMessage.objects.get(subject="Fresh").status == InboundStatus.TICKET_CREATED
    assert InboundMessage.objects.get(subject="Boom").reason == "error"


@pytest.mark.django_db
def test_importing_the_same_files_twice_creates_nothing_twice(tmp_path, mailbox):
    first = make_raw(message_id="<a@customer.example>", subject="First")
    # The same message delivered twice (another trace header) in the same file, and once more in another file.
    again = first.replace(b"Subject:", b"Received: from relay.example\r\nSubject:")
    (tmp_path / "box.mbox").write_bytes(_mbox(first, make_raw(message_id="<b@customer.example>", subject="Second"),
                                              again))
    (tmp_path / "copy.eml").write_bytes(again.replace(b"relay.example", b"relay2.example"))
    assert _import(tmp_path / "box.mbox", tmp_path / "copy.eml").endswith(
        "4 messages: 4 stored, 2 tickets created, 0 replies threaded, 0 ignored, 0 quarantined, 2 duplicates, "
        "0 not stored")
    assert _import(tmp_path / "box.mbox", tmp_path / "copy.eml").endswith(
        "4 messages: 0 stored, 0 tickets created, 0 replies threaded, 0 ignored, 0 quarantined, 4 duplicates, "
        "0 not stored")
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["First", "Second"]
    assert Message.objects.count() == 2 and InboundMessage.objects.count() == 4


@pytest.mark.django_db
def test_a_message_stored_before_but_never_processed_is_processed_in_its_place(tmp_path, mailbox):
    from atende.email_channel.services import inbound_store

    first = make_raw(message_id="<p1@customer.example>", subject="Stored by the listener")
    reply = make_raw(message_id="<p2@customer.example>", subject="Re: Stored by the listener",
                     headers={"In-Reply-To": "<p1@customer.example>"})
    pending, _created = inbound_store(raw=first, source="smtp")  # the listener died before processing it
    (tmp_path / "first.eml").write_bytes(first)
    (tmp_path / "reply.eml").write_bytes(reply)
    assert _import(tmp_path / "first.eml", tmp_path / "reply.eml").endswith(
        "2 messages: 1 stored, 1 tickets created, 1 replies threaded, 0 ignored, 0 quarantined, 0 duplicates, "
        "0 not stored")
    pending.refresh_from_db()
    assert pending.status == InboundStatus.TICKET_CREATED and pending.source == "smtp"
    assert InboundMessage.objects.get(message_id="<p2@customer.example>").ticket_id == pending.ticket_id


class _Crash(BaseException):
    """The process dying (what no ``except Exception`` catches)."""


@pytest.mark.django_db(transaction=True)
def test_a_process_that_dies_mid_group_leaves_none_of_it_and_importing_again_completes_it(
        tmp_path, mailbox, monkeypatch, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 3, 60_000
    from atende.email_channel.services import inbound

    real = inbound._process
    processed = []

    def dies_at_the_fifth(row, parsed=None, **kwargs):
        real(row, parsed, **kwargs)
        processed.append(row.subject)
        if len(processed) == 5:
            raise _Crash

    monkeypatch.setattr(inbound, "_process", dies_at_the_fifth)
    paths = []
    for i in range(7):
        paths.append(tmp_path / f"{i}.eml")
        paths[-1].write_bytes(make_raw(message_id=f"<crash{i}@customer.example>", subject=f"Crash {i}"))
    with pytest.raises(_Crash):
        _import(*paths)
    # The first group of three was committed; the second died with its second message.
    assert sorted(InboundMessage.objects.values_list("subject", flat=True)) == ["Crash 0", "Crash 1", "Crash 2"]
    assert Ticket.objects.count() == 3

    monkeypatch.setattr(inbound, "_process", real)
    assert _import(*paths).endswith("7 messages: 4 stored, 4 tickets created, 0 replies threaded, 0 ignored, "
                                    "0 quarantined, 3 duplicates, 0 not stored")
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [f"Crash {i}" for i in range(7)]
    assert InboundMessage.objects.filter(status=InboundStatus.TICKET_CREATED).count() == 7


def _statements(captured) -> int:
    """SQL statements run: an ``executemany`` counts once per row it wrote."""
    total = 0
    for query in captured.captured_queries:
        many = re.match(r"(\d+) times: ", query["sql"])
        total += int(many.group(1)) if many else 1
    return total


@pytest.mark.django_db
def test_statements_per_imported_message_are_bounded(tmp_path, mailbox, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000
    (tmp_path / "warm.eml").write_bytes(make_raw(sender="warm@customer.example", message_id="<warm@x>"))
    _import(tmp_path / "warm.eml")
    paths = []
    for i in range(20):  # each from a new sender, as a migration of old mail is
        paths.append(tmp_path / f"{i}.eml")
        paths[-1].write_bytes(make_raw(sender=f"person{i}@customer.example", message_id=f"<p{i}@customer.example>",
                                       subject=f"Request {i}"))
    with CaptureQueriesContext(connection) as captured:
        assert "20 tickets created" in _import(*paths)
    # Per message: its savepoint, the row, the sender throttle (its counts read once per group), the insert of the
    # new customer (no savepoint of its own), the ticket (ticket_create, none either), the outcome. Rules,
    # mailboxes, known Message-IDs and which senders are new are read once per group, and its tickets indexed for
    # search once; the ticket settings and the organisation of each sender's domain once per process. PostgreSQL
    # takes each ticket's number from its sequence first (one statement more a message).
    per_message = 11 + (connection.vendor == "postgresql")
    assert _statements(captured) <= 20 * per_message  # 291 on SQLite with a savepoint per new customer and an
    # index write per ticket (333 with a savepoint per ticket too; 41 a message when each was a transaction)


@pytest.mark.django_db
def test_each_message_is_read_about_once_when_groups_run_out_of_time(tmp_path, mailbox, settings, monkeypatch):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 50, 0  # every group: one message
    from atende.email_channel.services import inbound

    reads = []
    for name in ("parse_email", "_peek_headers"):
        real = getattr(inbound, name)
        monkeypatch.setattr(inbound, name, lambda raw, real=real: reads.append(raw) or real(raw))
    (tmp_path / "many.mbox").write_bytes(_mbox(*(
        make_raw(sender=f"p{i}@customer.example", message_id=f"<r{i}@customer.example>", subject=f"Read {i}")
        for i in range(50))))
    assert "50 tickets created" in _import(tmp_path / "many.mbox")
    # The first group is handed the whole batch, the next ones what a group did (one more now and then, to find
    # out whether more fit): 123 reads. Before, every group read the headers of every message it was handed,
    # 50 + 49 + … + 1 = 1,275 reads, and then each message's full parse.
    assert len(reads) <= 3 * 50


@pytest.mark.django_db
def test_senders_known_or_new_to_the_group_each_end_with_their_one_customer(tmp_path, mailbox, settings):
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    known = customer_find_or_create(kind="email", value="known@customer.example", name="Known")
    messages = [make_raw(sender=address, message_id=f"<s{i}@customer.example>", subject=f"Sender {i}")
                for i, address in enumerate(["new@customer.example", "Known@Customer.example",
                                             "NEW@customer.example", "other@customer.example"])]
    (tmp_path / "senders.mbox").write_bytes(_mbox(*messages))
    assert "4 tickets created" in _import(tmp_path / "senders.mbox")
    new = User.objects.get(email="new@customer.example")
    requesters = list(Ticket.objects.order_by("subject").values_list("requester_id", flat=True))
    assert requesters == [new.pk, known.pk, new.pk, User.objects.get(email="other@customer.example").pk]
    assert ContactIdentity.objects.filter(value="new@customer.example").count() == 1


def _throttle_caches(name: str) -> list:
    """The default caches a desk may run with: the process-local one (throttles counted in the database) and
    Redis (throttles counted in the cache unless told otherwise)."""
    from atende.core.testing.redis import REDIS_URL, unique_prefix

    return [pytest.param({"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, id="locmem"),
            pytest.param({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": unique_prefix(name)}, id="redis")]


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["", "cache", "database"])
@pytest.mark.parametrize("default_cache", _throttle_caches("mail-import-throttle"))
def test_work_rolled_back_and_redone_counts_each_message_once_against_the_sender_limit(
        tmp_path, mailbox, monkeypatch, settings, default_cache, store):
    """The per-sender limit is counted inside the message's transaction. Two ways a count can outlive its
    rollback: a group that fails as a whole and is imported again one message at a time, and a message
    quarantined after it was counted. Neither may count against the sender, whatever store the throttle uses."""
    if "Redis" in default_cache["BACKEND"]:
        from atende.core.testing.redis import redis_url_or_skip

        redis_url_or_skip()
    from atende.core.models import ThrottleBucket
    from atende.email_channel.models import EmailSettings
    from atende.email_channel.services import inbound, inbound_batch

    settings.CACHES = {**settings.CACHES, "default": default_cache}
    settings.ATENDE_THROTTLE_STORE = store
    settings.ATENDE_MAIL_IMPORT_BATCH, settings.ATENDE_MAIL_IMPORT_BATCH_MS = 100, 60_000  # one group
    EmailSettings.objects.update_or_create(pk=1, defaults={"rate_limit_per_hour": 3})
    failures = iter([RuntimeError("the group's commit failed")])
    real_save = inbound_batch.ImportBatch.save_outcomes

    def save_outcomes(batch):  # the first group fails at its end, after every message was counted
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real_save(batch)

    monkeypatch.setattr(inbound_batch.ImportBatch, "save_outcomes", save_outcomes)
    real_thread_find = inbound.thread_find

    def thread_find(parsed, **kwargs):  # counted, then quarantined by a failure later in its savepoint
        if parsed.subject == "Fails after the count":
            raise RuntimeError("threading failed")
        return real_thread_find(parsed, **kwargs)

    monkeypatch.setattr(inbound, "thread_find", thread_find)
    subjects = ["One", "Fails after the count", "Two", "Three", "Four"]
    (tmp_path / "storm.mbox").write_bytes(_mbox(*(
        make_raw(message_id=f"<once{i}@customer.example>", subject=subject) for i, subject in enumerate(subjects))))
    _import(tmp_path / "storm.mbox")

    rows = {row.subject: row for row in InboundMessage.objects.all()}
    assert [rows[s].status for s in subjects] == [
        InboundStatus.TICKET_CREATED, InboundStatus.QUARANTINED, InboundStatus.TICKET_CREATED,
        InboundStatus.TICKET_CREATED, InboundStatus.QUARANTINED]
    assert rows["Four"].reason == "rate_limited"
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["One", "Three", "Two"]
    counted = ThrottleBucket.objects.filter(scope="email.sender", subject="ana@customer.example")
    assert sum(counted.values_list("hits", flat=True)) == 3

"""Inbound mail: store the raw bytes first (committed), then process idempotently into tickets and replies.

Processing one stored message runs in one transaction with the row locked: a crash rolls everything back and
leaves the row ``pending`` for the periodic retry. A message that fails is quarantined with its reason.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import math
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_create_for_identity
from atende.accounts.models import User
from atende.accounts.selectors import customer_for_identity
from atende.core.actor import Actor
from atende.core.events import pushes_together
from atende.core.exceptions import DomainError
from atende.core.memo import batch_cached, batch_scope
from atende.core.throttle import Rate, throttle_hit, throttle_prefetch
from atende.email_channel.choices import InboundStatus, NonParticipantPolicy, SenderRuleKind
from atende.email_channel.models import EmailSettings, InboundMessage, Mailbox, SenderRule
from atende.email_channel.services import addresses
from atende.email_channel.services.bounces import bounce_report
from atende.email_channel.services.content import content_build
from atende.email_channel.services.inbound_batch import current_batch, import_batch
from atende.email_channel.services.loops import classify_automatic
from atende.email_channel.services.matching import is_participant, thread_find
from atende.email_channel.services.parsing import (
    ParsedEmail,
    UnparseableMessage,
    content_fingerprint,
    decode_header_value,
    message_ids,
    parse_email,
)
from atende.email_channel.services.undeliverable import bounce_apply
from atende.tickets.models import HAS_EXTERNAL_ID, Message, Ticket
from atende.tickets.search.events import index_together
from atende.tickets.services import (
    message_add_note,
    message_add_reply,
    ticket_create,
    ticket_set_followers,
)

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
MAX_CC_FOLLOWERS = 20


class Quarantine(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


class Ignore(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def _peek_headers(raw: bytes) -> tuple[str, str, str]:
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:256_000])
    except Exception:  # noqa: BLE001 - stored anyway; processing decides what it is
        return "", "", ""
    return _row_headers(headers)


def _row_headers(headers) -> tuple[str, str, str]:
    """The Message-ID, sender address and subject an inbound row keeps, from a message's headers."""
    message_id = decode_header_value(headers.get("Message-ID")).strip()[:990]
    sender = decode_header_value(headers.get("From"))
    try:
        sender = email.utils.parseaddr(sender)[1].lower()[:320]
    except Exception:  # noqa: BLE001
        sender = ""
    return message_id, sender, decode_header_value(headers.get("Subject"))[:255]


def _digest(raw: bytes) -> tuple[bytes, str]:
    if not isinstance(raw, bytes | bytearray):
        raise TypeError("inbound_store takes the raw bytes of a message")
    raw = bytes(raw)
    return raw, hashlib.sha256(raw).hexdigest()


def _new_row(raw: bytes, digest: str, *, source: str, mailbox: Mailbox | None = None, envelope_from: str = "",
             envelope_to: list[str] | tuple[str, ...] = (), parsed: ParsedEmail | None = None) -> InboundMessage:
    message_id, sender, subject = _peek_headers(raw) if parsed is None else _row_headers(parsed.message)
    return InboundMessage(sha256=digest, raw=raw, size=len(raw), source=source, mailbox=mailbox,
                          envelope_from=(envelope_from or "")[:998],
                          envelope_to=[str(a)[:320] for a in envelope_to][:50],
                          message_id=message_id, sender=sender, subject=subject)


def _parsed_row(raw: bytes, digest: str, *, source: str) -> tuple[InboundMessage, ParsedEmail | None]:
    """A new row and the message parsed once, for storing and processing in the same transaction: the row's
    headers come from that parse (``None`` when the message cannot be parsed: processing quarantines it)."""
    try:
        parsed = parse_email(raw)
    except UnparseableMessage:
        parsed = None
    return _new_row(raw, digest, source=source, parsed=parsed), parsed


def inbound_store(*, raw: bytes, source: str, mailbox: Mailbox | None = None, envelope_from: str = "",
                  envelope_to: list[str] | tuple[str, ...] = ()) -> tuple[InboundMessage, bool]:
    """Store the raw message durably (its own committed transaction). Returns (row, created); the same bytes
    stored twice return the existing row. Even empty input is stored: processing quarantines it with its reason."""
    raw, digest = _digest(raw)
    existing = InboundMessage.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    row = _new_row(raw, digest, source=source, mailbox=mailbox, envelope_from=envelope_from,
                   envelope_to=envelope_to)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # stored concurrently by another fetcher
        return InboundMessage.objects.get(sha256=digest), False
    return row, True


@dataclass(frozen=True)
class Imported:
    """What became of one message handed to ``inbound_store_processed_many``."""

    row: InboundMessage
    created: bool  # stored now
    processed: bool  # processed now: stored now, or stored before and still pending


def inbound_store_processed_many(*, raws: Sequence[bytes], source: str, max_seconds: float) -> list[Imported]:
    """Store and process messages in one transaction, in order, for input kept durably elsewhere until the
    import is over (``mail-import``: the files). Returns what became of the first ones: all of them, or those
    done within ``max_seconds`` (at least one); the caller hands the rest over again.

    Each message is processed in a savepoint: whatever it raises, its row is committed quarantined with the
    reason, as ``inbound_process`` leaves it. A crash before the commit leaves nothing of the batch, and importing
    the files again does it all. Bytes stored before are left as they are (a row still pending is processed
    here); the same bytes twice in the batch are stored once. What every message would look up (settings, rules,
    mailboxes, which Message-IDs exist) is read once for the batch, and the search index is brought up to date
    once, at its end (``index_together``)."""
    items = [_digest(raw) for raw in raws]
    # Parsed before the transaction, which on SQLite holds the one writers' turn (bytes stored before are parsed
    # for nothing: only a re-import has them).
    parsed_rows = {digest: _parsed_row(raw, digest, source=source) for raw, digest in items}
    started = time.monotonic()
    done: list[Imported] = []
    with pushes_together(), transaction.atomic(), batch_scope(), import_batch() as batch, index_together():
        before = {row.sha256: row for row in
                  InboundMessage.objects.defer("raw").filter(sha256__in={digest for _raw, digest in items})}
        fresh = {digest: parsed for digest, parsed in parsed_rows.items() if digest not in before}
        batch.prefetch_message_ids({mid for row, _parsed in fresh.values() for mid in message_ids(row.message_id)[:1]})
        senders = {parsed.from_address for _row, parsed in fresh.values() if parsed and parsed.from_address}
        batch.prefetch_senders(senders)
        _rate_limit_prefetch(senders)
        stored_now: set[str] = set()
        for _raw, digest in items:
            if done and time.monotonic() - started > max_seconds:
                break
            if digest in before:
                row = before[digest]
                pending = row.status == InboundStatus.PENDING
                if pending:
                    written = batch.written
                    row = inbound_process(inbound_id=row.pk)
                    batch.written = min(batch.written, written)  # its savepoint may have undone a write
                done.append(Imported(row, False, pending))
                continue
            row, parsed = fresh[digest]
            if digest in stored_now:  # the same bytes earlier in this batch
                done.append(Imported(row, False, False))
                continue
            row.received_at, row.attempts = timezone.now(), 1
            row.save()
            stored_now.add(digest)
            written = batch.written
            if not _process_stored(row, parsed):  # rolled back: with it, any outcomes written meanwhile
                batch.written = min(batch.written, written)
            batch.processed.append(row)
            done.append(Imported(row, True, True))
        batch.save_outcomes()
    return done


def _process_stored(row: InboundMessage, parsed: ParsedEmail | None) -> bool:
    """Process a row stored in the open transaction (``parsed``: its message, already parsed), in a savepoint;
    an error quarantines it instead. The outcome is set on ``row``; the caller writes it. False when the
    savepoint was rolled back.

    A new sender is created without a savepoint of its own (two round trips less on PostgreSQL): when another
    request created them meanwhile, this savepoint is rolled back and the message processed once more, finding
    them."""
    kept = False
    batch = current_batch()
    written = batch.written
    try:
        try:
            with transaction.atomic():
                _process(row, parsed, redone_on_conflict=True)
        except IntegrityError:
            batch.written = min(batch.written, written)  # outcomes written in the savepoint went with it
            row.refresh_from_db()
            with transaction.atomic():
                _process(row, parsed)
        kept = True
    except Ignore as ignored:  # raised before anything was written
        row.status, row.reason, row.detail = InboundStatus.IGNORED, ignored.reason[:40], ignored.detail
    except Exception as exc:  # noqa: BLE001 - a bug must quarantine one message, not stop the import
        reason, detail = _quarantine_reason(row.pk, exc)
        row.refresh_from_db()  # what processing set on it was rolled back with the savepoint
        row.status, row.reason, row.detail = InboundStatus.QUARANTINED, reason[:40], detail[:20_000]
    row.processed_at = timezone.now()
    return kept


def _quarantine_reason(inbound_id: int, exc: Exception) -> tuple[str, str]:
    if isinstance(exc, Quarantine):
        return exc.reason, exc.detail
    if isinstance(exc, DomainError):
        return exc.code[:40], exc.message
    logger.exception("inbound message %s failed", inbound_id)
    return "error", f"{exc.__class__.__name__}: {exc}\n\n{traceback.format_exc(limit=8)}"


def inbound_store_quarantined(*, raw: bytes, source: str, reason: str, detail: str) -> tuple[InboundMessage, bool]:
    """Keep input that holds no message we could process (an mbox file that splits into nothing) in quarantine,
    with its reason, instead of dropping it. Input stored before keeps its existing row and status."""
    row, created = inbound_store(raw=raw, source=source)
    if created:
        _finish(row.pk, InboundStatus.QUARANTINED, reason, detail)
        row.refresh_from_db()
    return row, created


def inbound_process(*, inbound_id: int) -> InboundMessage:
    """Process one stored message. Safe to call twice, concurrently, or after a crash."""
    InboundMessage.objects.filter(pk=inbound_id, status=InboundStatus.PENDING).update(attempts=F("attempts") + 1)
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().get(pk=inbound_id)
            if row.status != InboundStatus.PENDING:
                return row
            if row.attempts > MAX_ATTEMPTS:
                raise Quarantine("gave_up", f"processing failed {row.attempts - 1} times")
            try:
                with transaction.atomic():
                    _process(row)
            except Ignore as ignored:  # raised before anything was written
                row.status, row.reason, row.detail = InboundStatus.IGNORED, ignored.reason[:40], ignored.detail
            row.processed_at = timezone.now()
            row.save(update_fields=["status", "reason", "detail", "ticket_id", "ticket_message_id", "processed_at"])
            return row
    except Exception as exc:  # noqa: BLE001 - a bug must quarantine one message, not stop the channel
        return _finish(inbound_id, InboundStatus.QUARANTINED, *_quarantine_reason(inbound_id, exc))


@transaction.atomic
def _finish(inbound_id: int, status: str, reason: str, detail: str) -> InboundMessage:
    row = InboundMessage.objects.select_for_update().get(pk=inbound_id)
    if row.status == InboundStatus.PENDING:
        row.status, row.reason, row.detail = status, reason[:40], detail[:20_000]
        row.processed_at = timezone.now()
        row.save(update_fields=["status", "reason", "detail", "processed_at"])
    return row


def inbound_reprocess(*, inbound: InboundMessage, actor: Actor) -> InboundMessage:
    """An admin sends a quarantined message through the pipeline again (after fixing its cause)."""
    with transaction.atomic():
        updated = InboundMessage.objects.filter(pk=inbound.pk, status=InboundStatus.QUARANTINED).update(
            status=InboundStatus.PENDING, reason="", detail="", attempts=0, processed_at=None)
    if not updated:
        raise DomainError("Only quarantined messages can be reprocessed.", code="not_quarantined")
    logger.info("inbound %s reprocessed by %s", inbound.pk, actor.user_id)
    return inbound_process(inbound_id=inbound.pk)


@transaction.atomic
def inbound_discard(*, inbound: InboundMessage, actor: Actor) -> InboundMessage:
    row = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
    if row.status != InboundStatus.QUARANTINED:
        raise DomainError("Only quarantined messages can be discarded.", code="not_quarantined")
    row.status = InboundStatus.DISCARDED
    row.detail = f"{row.detail}\n\nDiscarded by {actor.user.email if actor.user else actor.kind}.".strip()
    row.save(update_fields=["status", "detail"])
    return row


def inbound_retry_stale(*, older_than: timedelta = timedelta(minutes=2), limit: int = 200) -> int:
    """Messages stored but never processed (the process died between store and process)."""
    cutoff = timezone.now() - older_than
    ids = list(InboundMessage.objects.filter(status=InboundStatus.PENDING, received_at__lte=cutoff)
               .order_by("received_at").values_list("id", flat=True)[:limit])
    for inbound_id in ids:
        inbound_process(inbound_id=inbound_id)
    return len(ids)


# The pipeline ---------------------------------------------------------------------------------------------

def _process(row: InboundMessage, parsed: ParsedEmail | None = None, *, redone_on_conflict: bool = False) -> None:
    """``redone_on_conflict``: the caller processes the message again when an ``IntegrityError`` rolls its
    savepoint back (``_process_stored``)."""
    if not row.raw_bytes.strip():
        raise Quarantine("empty", "The message is empty (no headers, no body).")
    if parsed is None:
        try:
            parsed = parse_email(row.raw_bytes)
        except UnparseableMessage as exc:
            raise Quarantine("unparseable", str(exc)) from exc
    verdict = classify_automatic(parsed, envelope_from=row.envelope_from if row.source == "smtp" else None)
    if verdict.is_automatic:
        if verdict.kind == "bounce":
            _bounce_record(row, parsed)  # returns normally so the EMAIL_BOUNCED event is committed
        row.status, row.reason, row.detail = InboundStatus.IGNORED, verdict.kind, verdict.reason
        return
    sender_address = parsed.from_address
    if not sender_address:
        if parsed.from_header:
            raise Quarantine("invalid_sender", f"The From address is not valid: {parsed.from_header}")
        raise Quarantine("no_sender", "The message has no From address (not an email, or headers lost).")
    own = addresses.own_addresses()
    if addresses.is_own_address(sender_address, own):
        raise Ignore("own_address", f"{sender_address} is one of our own addresses (mail loop).")
    config = batch_cached("email.settings", EmailSettings.load)
    allowed = _sender_rules(sender_address, config)
    _rate_limit(sender_address, config, allowed)
    reused = _message_id_seen(row, parsed) if parsed.message_id else None
    if reused is DUPLICATE:
        row.status, row.reason = InboundStatus.DUPLICATE, "message_id"
        row.detail = f"Message-ID <{parsed.message_id}> was already processed, with the same content."
        return
    envelope = [a.lower() for a in row.envelope_to or []]
    delivered = [parsed.header(h).lower() for h in ("Delivered-To", "X-Original-To", "Envelope-To") if parsed.header(h)]
    recipients = [*envelope, *delivered, *parsed.recipients]
    mailbox = row.mailbox or addresses.mailbox_for_recipients(recipients)
    sender = _sender_customer(sender_address)
    if sender is not None and not sender.is_active:
        raise Quarantine("sender_inactive", f"{sender_address} belongs to a deactivated user.")
    window = timedelta(hours=config.subject_threading_hours) if config.subject_threading_hours else None
    match = thread_find(parsed, recipients=recipients, sender=sender, subject_window=window, now=row.received_at,
                        same_message_id_ticket_id=reused.ticket_id if reused else None)
    if sender is None:  # looked up once above: a new sender is created without looking again
        sender = _sender_create(sender_address, name=parsed.from_name, savepoint=not redone_on_conflict)
    cc_users = _cc_users(parsed, own=own, sender=sender)
    ticket = match.ticket if match else None
    joined_as_cc = False
    if ticket is not None and not is_participant(ticket, sender):
        policy = mailbox.participant_policy(config) if mailbox else config.non_participant_policy
        if policy == NonParticipantPolicy.ADD_CC and not ticket.is_closed:
            # As Zendesk and Zammad do: the reply joins the ticket and its sender becomes a CC, flagged for agents.
            ticket_set_followers(ticket=ticket, actor=Actor(kind="customer", user=sender), add=[sender],
                                 reason="email_reply")
            joined_as_cc = True
        else:
            ticket = None  # strict mode: someone outside the ticket does not join it; their mail opens a new one
    content = content_build(parsed=parsed, inbound=row, mailbox=mailbox, is_reply=ticket is not None,
                            strip=config.strip_quoted_replies)
    content.metadata["email"]["thread"] = match.method if match and ticket is not None else None
    if joined_as_cc:
        content.metadata["email"]["joined_as_cc"] = True
    if reused is not None:
        _note_reused_message_id(row, content, reused, parsed.message_id)
    external_id = f"<{parsed.message_id}>" if parsed.message_id else ""
    if ticket is None:
        _create_ticket(row, sender=sender, mailbox=mailbox, content=content, cc_users=cc_users,
                       external_id=external_id)
    else:
        _add_to_ticket(row, ticket=ticket, sender=sender, content=content, cc_users=cc_users, external_id=external_id)


def _sender_rules(address: str, config: EmailSettings) -> bool:
    rules = batch_cached("email.sender_rules", lambda: list(SenderRule.objects.all()))
    allowed = any(r.kind == SenderRuleKind.ALLOW and r.matches(address) for r in rules)
    if not allowed and any(r.kind == SenderRuleKind.BLOCK and r.matches(address) for r in rules):
        raise Ignore("blocked", f"{address} matches a block rule.")
    if config.only_allowed_senders and not allowed:
        raise Quarantine("not_allowed", f"{address} matches no allow rule and only allowed senders are accepted.")
    return allowed


def _rate_limit(address: str, config: EmailSettings, allowed: bool) -> None:
    """At most ``rate_limit_per_hour`` messages per sender (sliding hour; allowed senders are exempt). Counted
    in the product's throttle (scope ``email.sender``) inside the processing transaction, so a message that ends
    quarantined or ignored for another reason, or whose group is rolled back and imported again one message at a
    time, is counted once or not at all, whatever the configured throttle store."""
    if allowed or not config.rate_limit_per_hour:
        return
    limit = Rate(config.rate_limit_per_hour, 3600)
    decision = throttle_hit("email.sender", address, [limit], transactional=True)
    if not decision.allowed:
        raise Quarantine("rate_limited", f"{address} sent more than {limit.count} messages in the last hour "
                                         f"(limit {limit.count}; next one admitted in {math.ceil(decision.retry_after)} s).")


def _rate_limit_prefetch(addresses: set[str]) -> None:
    """The senders' counts of the last hour, read once for the group: each message's count is then one statement."""
    config = batch_cached("email.settings", EmailSettings.load)
    if config.rate_limit_per_hour:
        throttle_prefetch("email.sender", sorted(addresses), [Rate(config.rate_limit_per_hour, 3600)])


def _sender_customer(address: str) -> User | None:
    batch = current_batch()
    if batch is not None and address.strip().lower() in batch.nobody:
        return None
    return customer_for_identity(kind=IdentityKind.EMAIL, value=address)


def _sender_create(address: str, *, name: str, savepoint: bool) -> User:
    batch = current_batch()
    if batch is not None:  # looked up again from now on: the savepoint that creates it may yet be rolled back
        batch.nobody.discard(address.strip().lower())
    return customer_create_for_identity(kind=IdentityKind.EMAIL, value=address, name=name, savepoint=savepoint)


DUPLICATE = object()  # _message_id_seen: the same message again


def _message_id_seen(row: InboundMessage, parsed: ParsedEmail):
    """``None`` for a Message-ID never seen; ``DUPLICATE`` when an earlier message with it has the same content
    (or when all we hold is a ticket message without its original, as the API can add); else the latest earlier
    message with that Message-ID, whose content differs: this one is kept too, as a message of its own."""
    message_id = parsed.message_id
    batch = current_batch()
    if batch is not None and not batch.may_have_seen(message_id):
        return None
    earlier = list(InboundMessage.objects.filter(
        message_id__in=[f"<{message_id}>", message_id],
        status__in=[InboundStatus.TICKET_CREATED, InboundStatus.REPLY_ADDED]).exclude(pk=row.pk).order_by("-id")[:20])
    if not earlier:
        known = Message.objects.filter(HAS_EXTERNAL_ID, external_id=f"<{message_id}>").exists()
        return DUPLICATE if known else None
    fingerprint = content_fingerprint(parsed)
    for other in earlier:
        try:
            if content_fingerprint(parse_email(other.raw_bytes)) == fingerprint:
                return DUPLICATE
        except UnparseableMessage:
            continue
    return earlier[0]


def _note_reused_message_id(row: InboundMessage, content, earlier: InboundMessage, message_id: str) -> None:
    content.metadata["email"]["message_id_reused"] = {"inbound_id": earlier.pk, "ticket_id": earlier.ticket_id}
    row.reason = "message_id_reused"
    row.detail = (f"Same Message-ID <{message_id}> as inbound message {earlier.pk} (ticket #{earlier.ticket_id}), "
                  "different content: kept as a message of its own.")


def _cc_users(parsed: ParsedEmail, *, own: set[str], sender: User) -> list[User]:
    users: list[User] = []
    for _name, address in [*parsed.cc, *parsed.to][: MAX_CC_FOLLOWERS * 2]:
        if address == sender.email or addresses.is_own_address(address, own):
            continue
        existing = customer_for_identity(kind=IdentityKind.EMAIL, value=address)
        if existing is None:
            try:
                existing = customer_create_for_identity(kind=IdentityKind.EMAIL, value=address, name=_name)
            except DomainError:
                continue
        if existing.is_active and existing not in users:
            users.append(existing)
        if len(users) >= MAX_CC_FOLLOWERS:
            break
    return users


def _create_ticket(row, *, sender, mailbox, content, cc_users, external_id) -> None:
    team = mailbox.team if mailbox else None
    # Customers may not choose a team themselves; routing a mailbox to its team is the system's doing.
    actor = Actor(kind="system") if team is not None else Actor.for_user(sender)
    ticket = ticket_create(
        actor=actor, requester=sender, subject=content.subject, body_text=content.body_text,
        body_html=content.body_html, channel="email", team=team, followers=cc_users, attachments=content.attachments,
        message_external_id=external_id, message_metadata=content.metadata,
    )
    row.status, row.ticket_id = InboundStatus.TICKET_CREATED, ticket.pk
    row.ticket_message_id = ticket.first_message.pk


def _add_to_ticket(row, *, ticket: Ticket, sender: User, content, cc_users, external_id) -> None:
    actor = Actor.for_user(sender)
    if sender.is_collaborator:
        message = message_add_note(ticket=ticket, actor=actor, body_text=content.body_text,
                                   body_html=content.body_html, attachments=content.attachments,
                                   metadata=content.metadata)
    else:
        message = message_add_reply(ticket=ticket, actor=actor, body_text=content.body_text,
                                    body_html=content.body_html, attachments=content.attachments, channel="email",
                                    external_id=external_id, metadata=content.metadata)
    new_ticket = message.ticket_id != ticket.pk  # a reply to a closed ticket opened a follow-up
    target = Ticket.objects.get(pk=message.ticket_id)
    newcomers = [u for u in cc_users if u.pk != target.requester_id and not u.is_staff_member]
    if newcomers and not target.is_closed and not sender.is_staff_member:
        ticket_set_followers(ticket=target, actor=actor, add=newcomers)
    row.status = InboundStatus.TICKET_CREATED if new_ticket else InboundStatus.REPLY_ADDED
    row.ticket_id, row.ticket_message_id = message.ticket_id, message.pk


def _bounce_record(row: InboundMessage, parsed: ParsedEmail) -> None:
    """A bounce or complaint is applied (``services.undeliverable.bounce_apply``): the mail it is about is
    marked, its ticket says so, a dead address stops receiving notifications. One that names nobody is only
    ignored (its reason says it was a bounce)."""
    report = bounce_report(parsed, row.raw_bytes)
    if report is None:
        return
    ticket_id = bounce_apply(report=report, inbound_id=row.pk)
    if ticket_id is not None:
        row.ticket_id = ticket_id

"""What one group of ``mail-import`` (``inbound.inbound_store_processed_many``) knows about its messages while its
transaction is open: the Message-IDs and senders looked up once for the group, and the outcomes still to write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models.functions import Lower

from atende.accounts.choices import IdentityKind
from atende.accounts.models import ContactIdentity, User
from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import InboundMessage
from atende.tickets.models import HAS_EXTERNAL_ID, Message


class ImportBatch:
    """What one ``inbound_store_processed_many`` transaction knows about its messages: which of their
    Message-IDs were seen before it began (``_message_id_seen`` looks only those up, and those seen in the
    batch), and the rows processed, whose outcomes are written in one statement: those from ``written`` on are
    still to be written (a savepoint rolled back lowers it again)."""

    def __init__(self):
        self.asked: set[str] = set()
        self.known: set[str] = set()
        self.seen: set[str] = set()
        self.processed: list[InboundMessage] = []
        self.written = 0
        self.nobody: set[str] = set()  # sender addresses nobody owned when the batch began, nor was given since

    def prefetch_senders(self, addresses: set[str]) -> None:
        """Which of these senders' addresses nobody owns (no email identity, no account with that address): a
        message from one of them creates its customer without looking the address up first."""
        addresses = {address.strip().lower() for address in addresses}
        if not addresses:
            return
        owned = {*ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value__in=addresses)
                 .values_list("value", flat=True),
                 *User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=addresses)
                 .values_list("email_lower", flat=True)}
        self.nobody |= addresses - owned

    def prefetch_message_ids(self, ids: set[str]) -> None:
        if not ids:
            return
        forms = [*ids, *(f"<{i}>" for i in ids)]
        earlier = InboundMessage.objects.filter(
            message_id__in=forms, status__in=[InboundStatus.TICKET_CREATED, InboundStatus.REPLY_ADDED])
        found = {*earlier.values_list("message_id", flat=True),
                 *Message.objects.filter(HAS_EXTERNAL_ID, external_id__in=[f"<{i}>" for i in ids])
                 .values_list("external_id", flat=True)}
        self.asked |= ids
        self.known |= {i for i in ids if i in found or f"<{i}>" in found}

    def may_have_seen(self, message_id: str) -> bool:
        """False only when no message with this Message-ID was stored before the batch nor in it."""
        seen = message_id not in self.asked or message_id in self.known or message_id in self.seen
        self.seen.add(message_id)
        if seen:
            self.save_outcomes()  # the look-up reads the outcomes of the messages before this one
        return seen

    def save_outcomes(self) -> None:
        rows, self.written = self.processed[self.written:], len(self.processed)
        if not rows:
            return
        fields = [InboundMessage._meta.get_field(name) for name in _OUTCOME_FIELDS]
        quote = connection.ops.quote_name
        sql = (f"UPDATE {quote(InboundMessage._meta.db_table)} SET "
               f"{', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE {quote('id')} = %s")
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[*(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields),
                                      row.pk] for row in rows])


_OUTCOME_FIELDS = ("status", "reason", "detail", "ticket_id", "ticket_message_id", "processed_at")
_batches = threading.local()


@contextmanager
def import_batch() -> Iterator[ImportBatch]:
    _batches.current = ImportBatch()
    try:
        yield _batches.current
    finally:
        _batches.current = None


def current_batch() -> ImportBatch | None:
    """The group being imported on this thread, if any."""
    return getattr(_batches, "current", None)

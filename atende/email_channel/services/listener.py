"""Inbound SMTP/LMTP listener (aiosmtpd) for installations that pipe mail in. A message is acknowledged (250)
only once its raw bytes are stored, so the sending MTA keeps and retries anything we did not store."""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

from atende.email_channel.choices import InboundSource
from atende.email_channel.services.imap import _process_later
from atende.email_channel.services.inbound import inbound_store

logger = logging.getLogger(__name__)


def _store_and_queue(raw: bytes, envelope_from: str, recipients: list[str]) -> int:
    close_old_connections()
    try:
        row, _created = inbound_store(raw=raw, source=InboundSource.SMTP, envelope_from=envelope_from,
                                      envelope_to=recipients)
        _process_later(row.pk)
        return row.pk
    finally:
        connection.close()  # runs in a pool thread: do not leave its connection open


class InboundHandler:
    def __init__(self, *, max_bytes: int = 50 * 1024 * 1024):
        self.max_bytes = max_bytes

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if len(raw) > self.max_bytes:
            return "552 5.3.4 Message too big"
        try:
            await sync_to_async(_store_and_queue, thread_sensitive=False)(
                raw, envelope.mail_from or "", [r.lower() for r in envelope.rcpt_tos])
        except Exception:  # noqa: BLE001 - tell the MTA to keep the message and retry
            logger.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please retry"
        return "250 2.0.0 Message accepted for delivery"


class LMTPController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def listener_controller(*, host: str, port: int, lmtp: bool = False) -> Controller:
    cls = LMTPController if lmtp else Controller
    # decode_data=False keeps the exact bytes; the SMTPUTF8 extension lets internationalised mail in.
    return cls(InboundHandler(), hostname=host, port=port, decode_data=False, enable_SMTPUTF8=True)

"""IMAP fetching with ``imaplib``: store each message (committed) before touching it on the server, then mark
it seen, move it or delete it as the mailbox says. IDLE where the server offers it, polling otherwise."""

from __future__ import annotations

import imaplib
import logging
import select
import ssl
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone

from atende.core.tasks import enqueue
from atende.email_channel.choices import AfterStore, AuthMethod, InboundSource, TlsMode
from atende.email_channel.models import Mailbox
from atende.email_channel.services.inbound import inbound_process, inbound_store

logger = logging.getLogger(__name__)
FETCH_LIMIT = 200  # per pass; the next pass takes the rest
TIMEOUT = 60


class ImapError(Exception):
    pass


def imap_connect(mailbox: Mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if mailbox.tls == TlsMode.SSL:
        conn = imaplib.IMAP4_SSL(mailbox.imap_host, mailbox.imap_port, ssl_context=context, timeout=TIMEOUT)
    else:
        conn = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT)
        if mailbox.tls == TlsMode.STARTTLS:
            conn.starttls(ssl_context=context)
    if mailbox.auth_method == AuthMethod.XOAUTH2:
        user, token = mailbox.username or mailbox.address, mailbox.oauth2_token
        conn.authenticate("XOAUTH2", lambda _challenge: f"user={user}\x01auth=Bearer {token}\x01\x01".encode())
    else:
        conn.login(mailbox.username or mailbox.address, mailbox.password)
    return conn


def _check(result: tuple, what: str):
    status, data = result
    if status != "OK":
        raise ImapError(f"{what} failed: {data!r}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw_from(fetched) -> bytes | None:
    for item in fetched or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes | bytearray):
            return bytes(item[1])
    return None


def _after_store(conn: imaplib.IMAP4, uid: bytes, mailbox: Mailbox, capabilities: set[str]) -> bool:
    """Returns True when messages were flagged deleted (an EXPUNGE is due)."""
    if mailbox.after_store == AfterStore.MARK_SEEN:
        _check(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE \\Seen")
        return False
    if mailbox.after_store == AfterStore.MOVE and mailbox.move_to_folder:
        target = _quote(mailbox.move_to_folder)
        if "MOVE" in capabilities:
            _check(conn.uid("MOVE", uid, target), "MOVE")
            return False
        _check(conn.uid("COPY", uid, target), "COPY")
    _check(conn.uid("STORE", uid, "+FLAGS", "(\\Deleted \\Seen)"), "STORE \\Deleted")
    return True


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    return {c.upper() for c in conn.capabilities}


def fetch_new(conn: imaplib.IMAP4, mailbox: Mailbox, *, process: bool = True) -> list[int]:
    """Store and then dispose of every waiting message in the selected folder. Returns stored row ids."""
    capabilities = _capabilities(conn)
    criteria = "(UNSEEN UNDELETED)" if mailbox.after_store == AfterStore.MARK_SEEN else "(UNDELETED)"
    data = _check(conn.uid("SEARCH", None, criteria), "SEARCH")
    uids = (data[0] or b"").split()[:FETCH_LIMIT]
    stored: list[int] = []
    expunge = False
    for uid in uids:
        raw = _raw_from(_check(conn.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH"))
        if raw is None:
            continue  # expunged meanwhile by another client: nothing left to store
        # Stored even when empty (processing quarantines it): skipping it would leave it unseen, fetched again on
        # every pass and never shown to anyone.
        row, _created = inbound_store(raw=raw, source=InboundSource.IMAP, mailbox=mailbox)
        # Only now, with the bytes committed, may the server copy change.
        expunge = _after_store(conn, uid, mailbox, capabilities) or expunge
        stored.append(row.pk)
    if expunge:
        conn.expunge()
    if process:
        for inbound_id in stored:
            _process_later(inbound_id)
    return stored


def _process_later(inbound_id: int) -> None:
    try:
        enqueue("atende.email_channel.tasks.inbound_process_task", inbound_id)
    except Exception:  # noqa: BLE001 - no queue: process here
        inbound_process(inbound_id=inbound_id)


def _prepare(conn: imaplib.IMAP4, mailbox: Mailbox) -> None:
    if mailbox.after_store == AfterStore.MOVE and mailbox.move_to_folder:
        conn.create(_quote(mailbox.move_to_folder))  # fails harmlessly when it exists
    _check(conn.select(_quote(mailbox.folder or "INBOX")), f"SELECT {mailbox.folder}")


def mailbox_fetch(*, mailbox: Mailbox, process: bool = True) -> list[int]:
    """One polling pass over one mailbox. Records the outcome on the mailbox row."""
    try:
        conn = imap_connect(mailbox)
        try:
            _prepare(conn, mailbox)
            stored = fetch_new(conn, mailbox, process=process)
        finally:
            try:
                conn.logout()
            except Exception:  # noqa: BLE001
                pass
    except Exception as exc:  # noqa: BLE001 - one broken mailbox must not stop the others
        logger.warning("fetching %s failed: %s", mailbox.address, exc)
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=f"{exc.__class__.__name__}: {exc}"[:2000],
                                                     last_fetch_at=timezone.now())
        return []
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="", last_fetch_at=timezone.now())
    return stored


def mailboxes_fetch() -> int:
    total = 0
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host=""):
        total += len(mailbox_fetch(mailbox=mailbox))
    return total


def _idle_wait(conn: imaplib.IMAP4, *, seconds: float, stop: threading.Event) -> None:
    """IMAP IDLE (RFC 2177) by hand (imaplib has no IDLE before Python 3.14): wait for EXISTS, then DONE."""
    tag = conn._new_tag().decode()
    conn.send(f"{tag} IDLE\r\n".encode())
    if not conn.readline().startswith(b"+"):
        raise ImapError("server refused IDLE")
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        ready, _w, _x = select.select([conn.sock], [], [], 1.0)
        if ready:
            line = conn.readline()
            if not line:
                raise ImapError("connection closed during IDLE")
            if b"EXISTS" in line or b"RECENT" in line:
                break
    conn.send(b"DONE\r\n")
    while True:
        line = conn.readline()
        if not line or line.startswith(tag.encode()):
            break


def mailbox_watch(*, mailbox: Mailbox, stop: threading.Event, poll_seconds: float = 60,
                  idle_seconds: float = 25 * 60) -> None:
    """Run until ``stop``: fetch, then IDLE (when offered and enabled) or sleep, and again. Reconnects on errors."""
    try:
        _watch(mailbox=mailbox, stop=stop, poll_seconds=poll_seconds, idle_seconds=idle_seconds)
    finally:
        connection.close()  # the watcher runs in its own thread


def _watch(*, mailbox: Mailbox, stop: threading.Event, poll_seconds: float, idle_seconds: float) -> None:
    while not stop.is_set():
        close_old_connections()
        try:
            conn = imap_connect(mailbox)
            try:
                _prepare(conn, mailbox)
                use_idle = mailbox.use_idle and "IDLE" in _capabilities(conn)
                while not stop.is_set():
                    fetch_new(conn, mailbox)
                    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="", last_fetch_at=timezone.now())
                    if use_idle:
                        _idle_wait(conn, seconds=idle_seconds, stop=stop)
                    else:
                        stop.wait(poll_seconds)
                        conn.noop()
            finally:
                try:
                    conn.logout()
                except Exception:  # noqa: BLE001
                    pass
        except Exception as exc:  # noqa: BLE001 - log, back off, reconnect
            logger.warning("watching %s failed: %s", mailbox.address, exc)
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=f"{exc.__class__.__name__}: {exc}"[:2000])
            stop.wait(min(poll_seconds, 30))

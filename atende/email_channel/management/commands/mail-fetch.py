"""``atende mail-fetch``: fetch the IMAP mailboxes once, or keep watching them (IDLE where offered)."""

import signal
import threading

from django.core.management.base import BaseCommand

from atende.email_channel.models import Mailbox
from atende.email_channel.services.imap import mailbox_fetch, mailbox_watch


class Command(BaseCommand):
    help = "Fetch mail from the configured IMAP mailboxes (once, or continuously with --watch)."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", type=int, action="append", help="only this mailbox id (repeatable)")
        parser.add_argument("--watch", action="store_true", help="keep running: IMAP IDLE, or poll")
        parser.add_argument("--poll-seconds", type=float, default=60)

    def handle(self, *args, mailbox, watch, poll_seconds, **options):
        mailboxes = Mailbox.objects.filter(is_active=True).exclude(imap_host="")
        if mailbox:
            mailboxes = mailboxes.filter(pk__in=mailbox)
        if not watch:
            for box in mailboxes:
                stored = mailbox_fetch(mailbox=box)
                self.stdout.write(f"mail-fetch: {box.address}: {len(stored)} stored")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        threads = [threading.Thread(target=mailbox_watch, kwargs={"mailbox": box, "stop": stop,
                                                                   "poll_seconds": poll_seconds}, daemon=True)
                   for box in mailboxes]
        for thread in threads:
            thread.start()
        self.stdout.write(f"mail-fetch: watching {len(threads)} mailbox(es)")
        stop.wait()
        for thread in threads:
            thread.join(timeout=10)

"""``atende mail-listen``: an SMTP (or LMTP) server that stores every message it accepts."""

import signal
import threading

from django.core.management.base import BaseCommand

from atende.email_channel.services.listener import listener_controller


class Command(BaseCommand):
    help = "Listen for inbound mail over SMTP or LMTP (for an MTA that pipes mail to Atende)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")

    def handle(self, *args, host, port, lmtp, **options):
        controller = listener_controller(host=host, port=port, lmtp=lmtp)
        controller.start()
        self.stdout.write(f"mail-listen: {'LMTP' if lmtp else 'SMTP'} on {host}:{port}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()

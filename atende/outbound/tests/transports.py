"""A transport for the engine's own tests: records what it was asked to send and fails on demand. (The real
transports are tested through aiosmtpd and a loopback HTTP receiver in their apps.)"""

from __future__ import annotations

from atende.outbound.transports import DeliveryFailed, SendResult, Transport


class RecordingTransport(Transport):
    name = "recording"
    sent: list[int] = []  # delivery ids, in order
    fail_with: str = ""  # when set, every send fails with this error
    lease_seconds = 120

    def send(self, delivery):
        if RecordingTransport.fail_with:
            raise DeliveryFailed(RecordingTransport.fail_with, status_code=503)
        RecordingTransport.sent.append(delivery.pk)
        return SendResult(status_code=200, external_id=delivery.external_id or f"remote-{delivery.pk}")

    def max_attempts(self) -> int:
        return 3

    def retry_base_seconds(self) -> float:
        return 10.0

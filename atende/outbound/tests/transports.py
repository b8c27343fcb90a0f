"""A transport for the engine's own tests: records what it was asked to send and fails on demand. (The real
transports are tested through aiosmtpd and a loopback HTTP receiver in their apps.)"""

from __future__ import annotations

from atende.outbound.transports import DeliveryFailed, SendResult, Transport


class RecordingTransport(Transport):
    name = "recording"
    sent: list[int] = []  # delivery ids, in order
    fail_with: str = ""  # when set, every send fails with this error
    fail_ids: set[int] = set()  # these deliveries fail (HTTP 503)
    broken_hook_ids: set[int] = set()  # recording these deliveries' attempts raises
    before_send = None  # called with each delivery before it is sent
    lease_seconds = 120

    def send(self, delivery):
        if RecordingTransport.before_send is not None:
            RecordingTransport.before_send(delivery)
        if RecordingTransport.fail_with or delivery.pk in RecordingTransport.fail_ids:
            raise DeliveryFailed(RecordingTransport.fail_with or "HTTP 503", status_code=503)
        RecordingTransport.sent.append(delivery.pk)
        return SendResult(status_code=200, external_id=delivery.external_id or f"remote-{delivery.pk}")

    def attempt_recorded(self, delivery, attempt):
        if delivery.pk in RecordingTransport.broken_hook_ids:
            raise RuntimeError(f"the hook failed for delivery {delivery.pk}")

    def max_attempts(self) -> int:
        return 3

    def retry_base_seconds(self) -> float:
        return 10.0

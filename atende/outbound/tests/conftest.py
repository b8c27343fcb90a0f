import pytest

from atende.outbound.tests.transports import RecordingTransport


def _reset():
    RecordingTransport.sent = []
    RecordingTransport.fail_with = ""
    RecordingTransport.fail_ids = set()
    RecordingTransport.broken_hook_ids = set()
    RecordingTransport.before_send = None


@pytest.fixture
def recording(settings):
    settings.OUTBOUND_TRANSPORTS = {**settings.OUTBOUND_TRANSPORTS,
                                    "recording": "atende.outbound.tests.transports.RecordingTransport"}
    _reset()
    yield RecordingTransport
    _reset()

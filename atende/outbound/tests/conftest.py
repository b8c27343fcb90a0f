import pytest

from atende.outbound.tests.transports import RecordingTransport


@pytest.fixture
def recording(settings):
    settings.OUTBOUND_TRANSPORTS = {**settings.OUTBOUND_TRANSPORTS,
                                    "recording": "atende.outbound.tests.transports.RecordingTransport"}
    RecordingTransport.sent = []
    RecordingTransport.fail_with = ""
    yield RecordingTransport
    RecordingTransport.sent = []
    RecordingTransport.fail_with = ""

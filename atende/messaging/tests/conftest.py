import json
from pathlib import Path

import pytest

from atende.messaging.tests.standin import BOT_TOKEN, PHONE_NUMBER_ID, WA_TOKEN, StandIn

FIXTURES = Path(__file__).parent / "fixtures"
TELEGRAM_SECRET = "tg-webhook-secret-0123456789"
WA_APP_SECRET = "wa-app-secret-abcdef"
WA_VERIFY = "wa-verify-token"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


@pytest.fixture
def connectors(settings, standin):
    settings.ATENDE_MESSAGING = {
        "telegram": {"bot_token": BOT_TOKEN, "webhook_secret": TELEGRAM_SECRET, "api_base": standin.base},
        "whatsapp": {"access_token": WA_TOKEN, "app_secret": WA_APP_SECRET, "verify_token": WA_VERIFY,
                     "phone_number_id": PHONE_NUMBER_ID, "api_base": standin.base},
    }
    return standin

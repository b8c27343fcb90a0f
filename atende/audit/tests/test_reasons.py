"""Why a sign-in failed or a session ended is shown in the reader's language, for every reason the sign-in app
records (a code added there without a label here fails this test)."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from atende.accounts.tests.factories import AdminFactory, AgentFactory
from atende.audit.choices import AuditAction, AuditReason
from atende.audit.services import audit_record

SIGNIN = Path(__file__).resolve().parents[2] / "signin"
# Every way the sign-in app names a reason: refusals, protocol errors, session ends, failed passwords.
REASON_CODE = re.compile(r'(?:_refuse\(\w+, |Error\(|reason=|reason = |"reason": )"([a-z_]+)"')


def signin_reason_codes() -> set[str]:
    codes = set()
    for path in SIGNIN.rglob("*.py"):
        if "tests" not in path.parts:
            codes.update(REASON_CODE.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_reason_the_signin_app_records_has_a_label():
    codes = signin_reason_codes()
    assert {"password", "locked", "idle", "wrong_issuer"} <= codes  # the scan finds each kind of site
    assert codes - set(AuditReason.values) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("language, shown", [("en", "too many failed attempts"),
                                             ("pt-br", "tentativas malsucedidas demais")])
def test_the_log_page_shows_the_reason_in_the_readers_language(client, language, shown):
    admin = AdminFactory(email="boss@atende.test", locale=language)
    agent = AgentFactory(email="agent7@atende.test")
    audit_record(action=AuditAction.ACCOUNT_LOCKED, subject=agent, data={"reason": "locked"})
    audit_record(action=AuditAction.MFA_RESET, actor=admin, subject=agent, data={"reason": "lost phone"})
    client.force_login(admin)
    with translation.override(language):
        page = client.get("/console/audit/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert shown in page and ">locked<" not in page
    assert "lost phone" in page  # an administrator's own words are shown as written

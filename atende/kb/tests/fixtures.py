"""Fixtures shared by the portal, kb and surveys tests (imported by each app's conftest)."""

import pytest

from atende.accounts.tests.factories import CustomerFactory
from atende.kb.tests.factories import make_article, make_section


@pytest.fixture
def customer(db, organization):
    """The portal needs a verified address (self-registered customers are held until they verify)."""
    return CustomerFactory(organization=organization, email_verified=True)


@pytest.fixture
def other_customer(db):
    return CustomerFactory(email_verified=True)


@pytest.fixture
def kb_section(db):
    return make_section()


@pytest.fixture
def public_article(kb_section):
    return make_article(section=kb_section, title="Reset your password",
                        body="If you forgot your password, open **Settings** and choose *Reset password*.",
                        summary="Choose a new password when you forgot the old one.")


@pytest.fixture
def portuguese_article(kb_section, public_article):
    return make_article(section=kb_section, title="Como redefinir a senha", language="pt-br",
                        body="Se você esqueceu a senha, abra **Configurações** e escolha *Redefinir senha*.",
                        translation_of=public_article)


@pytest.fixture
def internal_article(kb_section):
    return make_article(section=kb_section, title="Escalating password resets to engineering",
                        body="Internal runbook for password reset failures.", visibility="internal")


@pytest.fixture
def draft_article(kb_section):
    return make_article(section=kb_section, title="Password policy draft", body="Not ready.", status="draft")

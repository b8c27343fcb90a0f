"""``identity_owner`` is asked about every sender and requester, most of them new at a peak: the address is looked
up among the identities and the accounts' login addresses without building a query again, and matches as
``email__iexact`` does (any spelling of the letters)."""

import pytest

from atende.accounts.choices import IdentityKind
from atende.accounts.selectors import customer_for_identity, identity_owner
from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.core.prepared import forget
from atende.core.testing.compiled import count_compiled

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    forget()
    yield
    forget()


@pytest.mark.parametrize("stored,asked", [
    ("Ana.Souza@Atende.test", "ana.souza@atende.test"),
    ("ANA.SOUZA@ATENDE.TEST", "Ana.Souza@atende.TEST"),
    ("Renée.çavuş@Exemplo.com.br", "RENÉE.ÇAVUŞ@EXEMPLO.COM.BR"),  # letters outside ASCII too
    ("joão_1%@x.example", "JOÃO_1%@X.EXAMPLE"),
])
def test_an_account_address_stored_in_another_case_is_found(stored, asked):
    agent = AgentFactory(email=stored)
    CustomerFactory(email="other@atende.test")
    assert customer_for_identity(kind=IdentityKind.EMAIL, value=asked) == agent
    assert identity_owner(kind=IdentityKind.EMAIL, value=asked.lower()) == agent


@pytest.mark.parametrize("asked", ["nova@atende.test", "ana.souza@atende.tes", "ana_souza@atende.test",
                                   "ana.souz%@atende.test", "renée.çavuş@exemplo.com"])
def test_a_new_address_finds_nobody(asked):
    AgentFactory(email="Ana.Souza@Atende.test")
    CustomerFactory(email="Renée.Çavuş@Exemplo.com.br")
    assert customer_for_identity(kind=IdentityKind.EMAIL, value=asked) is None


def test_a_new_address_and_a_new_whatsapp_number_build_no_query_after_the_first(monkeypatch):
    AgentFactory(email="ana@atende.test")
    customer = CustomerFactory(email=None, phone="+5511912345678")
    from atende.accounts.identities import _identity_insert

    _identity_insert(customer=customer, kind=IdentityKind.PHONE, value="+5511912345678")
    assert customer_for_identity(kind=IdentityKind.EMAIL, value="first@new.example") is None
    assert customer_for_identity(kind=IdentityKind.WHATSAPP, value="5511900000000") is None
    built = count_compiled(monkeypatch)
    for n in range(3):
        assert customer_for_identity(kind=IdentityKind.EMAIL, value=f"New.{n}@New.example") is None
        assert customer_for_identity(kind=IdentityKind.WHATSAPP, value=f"551190000000{n + 1}") is None
    assert customer_for_identity(kind=IdentityKind.EMAIL, value="ANA@atende.test").email == "ana@atende.test"
    assert customer_for_identity(kind=IdentityKind.WHATSAPP, value="5511912345678") == customer
    assert built == []

"""The password rules (OWASP ASVS level 2, V2.1.1-V2.1.3): at least 12 characters, up to 128, never truncated;
and the demo accounts' passwords printed by ``make run`` still meet them and still sign in."""

import pytest
from django.contrib.auth.password_validation import (
    UserAttributeSimilarityValidator,
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.test import Client

from atende.accounts.choices import Role
from atende.accounts.services import user_create
from atende.accounts.tests.factories import AgentFactory
from atende.tickets.seed.demo import DEMO_LOGINS

PASSWORD = "secret-pass-1"


def change(client: Client, new: str):
    return client.post("/accounts/security/password/", {"old_password": PASSWORD, "new_password": new,
                                                        "new_password_again": new})


def sign_in(email: str, password: str) -> int:
    return Client().post("/accounts/login/", {"username": email, "password": password}).status_code


@pytest.mark.parametrize("new,accepted,message", [
    ("Fjord-quail7", True, ""),             # 12 characters
    ("Fjord-quai7", False, "too short"),    # 11
    ("x7" + "Fjord-quail-" * 10 + "zzzz", True, ""),    # 126
    ("x7" + "Fjord-quail-" * 10 + "zzzzzzz", False, "too long"),  # 129
])
def test_new_passwords_need_12_to_128_characters(db, new, accepted, message):
    agent = AgentFactory()
    client = Client()
    client.force_login(agent)
    response = change(client, new)
    assert (response.status_code == 302) is accepted
    assert message in response.content.decode()
    assert sign_in(agent.email, new if accepted else PASSWORD) == 302


def test_a_long_password_is_kept_whole(db):
    agent = AgentFactory()
    client = Client()
    client.force_login(agent)
    long = "correct horse battery staple " * 2 + "and-a-little-more-7"  # 77 characters, spaces kept
    assert len(long) >= 64 and change(client, long).status_code == 302
    assert sign_in(agent.email, long) == 302
    assert sign_in(agent.email, long[:72]) == 200  # bcrypt-style truncation would let this in
    assert sign_in(agent.email, long[:-1] + "8") == 200


@pytest.mark.parametrize("role,email,password", DEMO_LOGINS)
def test_the_demo_logins_meet_the_policy_and_sign_in(db, role, email, password):
    user = user_create(email=email, password=password, name=role.title(), role=Role(role))
    # Length and the common-password list; the demo passwords echo the demo addresses on purpose (easy to
    # remember on a throwaway install), which the similarity rule would refuse for a real account.
    rules = [v for v in get_default_password_validators() if not isinstance(v, UserAttributeSimilarityValidator)]
    validate_password(password, user=user, password_validators=rules)
    assert sign_in(email, password) == 302


def test_the_validators_refuse_what_asvs_level_2_refuses(db):
    with pytest.raises(ValidationError, match="too short"):
        validate_password("a" * 5 + "Bq7-x")
    with pytest.raises(ValidationError, match="too long"):
        validate_password("Bq7-" * 33)
    validate_password("Bq7-" * 16)  # 64

"""Every case-insensitive look-up of a user by address (sign-in, a new sender, the address checks of the forms and
commands: ``email__iexact``) is answered by the ``user_email_lower`` index, and matches as before: any spelling
of the letters, never a ``_`` or ``%`` taken as a wildcard."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.core.testing.plans import sqlite_full_scans

pytestmark = pytest.mark.django_db

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._%+-", min_size=1, max_size=20)


def _flip(text: str, mask: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, mask + [False] * len(text), strict=False))


@settings(max_examples=40, deadline=None)
@given(local=LOCAL, stored_mask=st.lists(st.booleans(), max_size=40), asked_mask=st.lists(st.booleans(), max_size=40))
def test_any_spelling_of_the_letters_finds_the_user_and_nothing_is_a_wildcard(local, stored_mask, asked_mask):
    address = f"{local}@cliente.example"
    User.objects.filter(email__in=[address, address.replace("_", "x").replace("%", "x")]).delete()
    user = CustomerFactory(email=_flip(address, stored_mask))
    assert User.objects.filter(email__iexact=_flip(address, asked_mask)).get() == user
    if "_" in local or "%" in local:  # as wildcards they would have matched this other address too
        assert not User.objects.filter(email__iexact=address.replace("_", "x").replace("%", "x")).exists()
    user.delete()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_sign_in_and_a_new_sender_search_the_index_instead_of_scanning_the_users(client):
    AgentFactory(email="ana@atende.test")
    CustomerFactory.create_batch(3)
    with CaptureQueriesContext(connection) as captured:
        client.post("/accounts/login/", {"username": "ANA@atende.test", "password": "secret-pass-1"})
        customer_find_or_create(kind="email", value="Nova.Pessoa@Cliente.example", name="Nova")
    statements = list(captured.captured_queries)  # (the next request clears the connection's log)
    lookups = [q for q in statements if 'LOWER("accounts_user"."email")' in q["sql"]]
    assert len(lookups) >= 2, "sign-in and the new sender no longer look the address up"
    assert sqlite_full_scans(statements, mentioning="email", tables=("accounts_user",)) == []
    assert client.get("/accounts/profile/").status_code == 200  # signed in with the address spelled otherwise


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's EXPLAIN")
def test_the_lookup_can_use_the_index_on_postgresql():
    sql, params = User.objects.filter(email__iexact="Ana@Atende.test").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "user_email_lower" in plan, plan

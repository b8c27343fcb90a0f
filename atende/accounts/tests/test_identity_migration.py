"""The identities migration, run on data in the schema before it: every customer's address becomes their primary
email identity, international phone numbers become phone identities, and nothing else changes."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_contact_identities")]


@pytest.mark.django_db(transaction=True)
def test_customers_keep_their_addresses_as_primary_identities():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("accounts", "User")
    ana = User.objects.create(email="ana@example.com", role="customer", email_verified=True, phone="+55 11 91234-5678")
    bob = User.objects.create(email="bob@example.com", role="customer", phone="call after 5")
    agent = User.objects.create(email="agent@support.example", role="agent")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Identity = new.get_model("accounts", "ContactIdentity")
    rows = set(Identity.objects.values_list("customer_id", "kind", "value", "is_primary", "verified"))
    assert rows == {
        (ana.pk, "email", "ana@example.com", True, True),
        (ana.pk, "phone", "+5511912345678", False, False),
        (bob.pk, "email", "bob@example.com", True, False),
    }
    NewUser = new.get_model("accounts", "User")
    assert NewUser.objects.get(pk=agent.pk).email == "agent@support.example"
    assert NewUser.objects.get(pk=bob.pk).phone == "call after 5"

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(BEFORE)  # and back: the reverse migration runs too
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

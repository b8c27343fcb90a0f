"""PreparedLookup: the same statement and the same objects as ``queryset.first()``, compiled once per connection."""

from __future__ import annotations

import cProfile
import datetime
import pstats
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atende.accounts.models import ContactIdentity, User
from atende.accounts.tests.factories import CustomerFactory, OrganizationFactory
from atende.api.models import ApiToken
from atende.api.services import api_token_create, token_hash
from atende.core.actor import Actor
from atende.core.prepared import PreparedLookup

pytestmark = pytest.mark.django_db


def _token_query(token_hash):
    return ApiToken.objects.select_related("user", "user__organization").filter(token_hash=token_hash)


def _as_logged(sql: str, values: list) -> str:
    """On PostgreSQL a prepared read is bound on the server and logged with ``$1, $2…``: its values are put back as
    the ORM's client-side binding writes them, so the two statements compare equal when they are the same."""
    return re.sub(r"\$(\d+)\b", lambda m: connection.ops.compose_sql("%s", [values[int(m.group(1)) - 1]]), sql)


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_same_statement_and_same_objects_as_the_orm():
    org = OrganizationFactory()
    user = CustomerFactory(organization=org)
    token, secret = api_token_create(actor=Actor.for_user(user), user=user, name="t", scope="write",
                                     expires_at=timezone.now() + datetime.timedelta(days=3))
    lookup = PreparedLookup(_token_query, "token_hash")
    wanted = _token_query(token_hash(secret)).first()
    with CaptureQueriesContext(connection) as orm:
        _token_query(token_hash(secret)).first()
    with CaptureQueriesContext(connection) as prepared:
        found = lookup(token_hash=token_hash(secret))
    assert ([_as_logged(q["sql"], [token_hash(secret)]) for q in prepared.captured_queries]
            == [q["sql"] for q in orm.captured_queries])
    assert _fields(found) == _fields(wanted) and found.pk == token.pk
    assert found.expires_at.tzinfo is not None and found.created_at == wanted.created_at
    assert found._state.db == "default" and not found._state.adding
    # The joined rows come cached, as with select_related: no further query.
    with CaptureQueriesContext(connection) as more:
        assert _fields(found.user) == _fields(wanted.user)
        assert _fields(found.user.organization) == _fields(org)
    assert more.captured_queries == []


def test_missing_row_null_join_and_values_that_look_like_sql():
    user = CustomerFactory(organization=None)
    _token, secret = api_token_create(actor=Actor.for_user(user), user=user, name="t")
    lookup = PreparedLookup(_token_query, "token_hash")
    found = lookup(token_hash=token_hash(secret))
    assert found.user.organization is None
    assert lookup(token_hash="x' OR '1'='1") is None
    assert lookup(token_hash="%") is None


def test_ordering_as_first_and_as_the_models_meta():
    a, b = CustomerFactory(), CustomerFactory()
    ContactIdentity.objects.create(customer=b, kind="phone", value="+5511999990000")
    identity = PreparedLookup(lambda kind, value: ContactIdentity.objects.select_related("customer")
                              .filter(kind=kind, value=value), "kind", "value")
    by_role = PreparedLookup(lambda role: User.objects.filter(role=role), "role")
    for lookup, values, queryset in [
        (identity, {"kind": "phone", "value": "+5511999990000"},
         ContactIdentity.objects.select_related("customer").filter(kind="phone", value="+5511999990000")),
        (by_role, {"role": "customer"}, User.objects.filter(role="customer")),
    ]:
        with CaptureQueriesContext(connection) as orm:
            wanted = queryset.first()
        with CaptureQueriesContext(connection) as prepared:
            found = lookup(**values)
        assert ([_as_logged(q["sql"], list(values.values())) for q in prepared.captured_queries]
                == [q["sql"] for q in orm.captured_queries])
        assert found.pk == wanted.pk
    assert by_role(role="customer").pk == min(a.pk, b.pk)
    assert by_role(role="nobody") is None


def test_lookups_that_rewrite_their_value_are_refused():
    CustomerFactory()
    with pytest.raises(ValueError):
        PreparedLookup(lambda email: User.objects.filter(email__iexact=email), "email")(email="a@example.com")
    with pytest.raises(ValueError):
        PreparedLookup(lambda name: User.objects.filter(name__contains=name), "name")(name="a")
    with pytest.raises(ValueError):  # the text column turns the number into text: not the value it was given
        PreparedLookup(_token_query, "token_hash")(token_hash=5)
    with pytest.raises(TypeError):
        PreparedLookup(_token_query, "token_hash")(token_hash=b"5")


def test_a_lookup_costs_a_fraction_of_building_the_queryset():
    user = CustomerFactory(organization=OrganizationFactory())
    _token, secret = api_token_create(actor=Actor.for_user(user), user=user, name="t")
    lookup = PreparedLookup(_token_query, "token_hash")
    digest = token_hash(secret)
    lookup(token_hash=digest)

    def calls(fn) -> int:
        profile = cProfile.Profile()
        profile.runcall(fn)
        return pstats.Stats(profile).total_calls

    orm = calls(lambda: _token_query(digest).first())
    prepared = calls(lambda: lookup(token_hash=digest))
    assert orm > 1500 and prepared < 350, (orm, prepared)


@pytest.mark.postgres
def test_on_postgresql_a_read_run_often_is_prepared_on_the_server(settings):
    """Planning the ticket page's read took ten times running it: after ``prepare_threshold`` runs on a connection
    the statement is prepared (parsed and planned once); ORM queries keep client-side binding."""
    user = CustomerFactory()
    _token, secret = api_token_create(actor=Actor.for_user(user), user=user, name="t")
    lookup = PreparedLookup(_token_query, "token_hash")

    def prepared_here() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        assert lookup(token_hash=token_hash(secret)).user_id == user.pk
        assert list(User.objects.filter(pk=user.pk).values_list("pk", flat=True)) == [user.pk]
    statements = prepared_here()
    assert [s for s in statements if '"api_apitoken"."token_hash" = $1' in s], statements
    assert not [s for s in statements if '"accounts_user"."id" = $1' in s and "api_apitoken" not in s]
    assert lookup(token_hash="not a token") is None  # the prepared statement, another value


def _ticket_rows(*ids):
    from atende.tickets.models import Ticket

    return (Ticket.objects.filter(pk__in=ids).order_by("pk")
            .values_list("pk", "number", "created_at", "solved_at", "requester__email", "team__name"))


def test_prepared_rows_are_the_orm_s_values_list_rows():
    from atende.core.prepared import padded, prepared_rows
    from atende.tickets.tests.factories import make_ticket

    tickets = [make_ticket(subject=f"Row {i}") for i in range(3)]
    ids = padded([t.pk for t in tickets])
    for _ in range(2):  # compiled on the first call, reused on the second
        assert prepared_rows(("ticket_rows", len(ids)), _ticket_rows, ids) == list(_ticket_rows(*ids))
    assert prepared_rows(("ticket_rows", len(ids)), _ticket_rows, padded([tickets[1].pk])) == list(
        _ticket_rows(tickets[1].pk))
    found = prepared_rows(("ticket_rows", len(ids)), _ticket_rows, ids)
    assert found[0][2].tzinfo is not None and found[0][3] is None  # the backend's converters applied


def test_prepared_rows_refuse_flat_lists():
    from atende.core.prepared import prepared_rows
    from atende.tickets.models import Ticket

    with pytest.raises(ValueError):
        prepared_rows("flat ids", lambda pk: Ticket.objects.filter(pk=pk).values_list("pk", flat=True), [1])

"""``access_ticket`` builds the SQL of a shape once per connection (``selectors_prepared``): the same ticket, the
same related rows and annotations as the ORM reads, no query built again, and visibility unchanged."""

import pytest
from django.db.models import OuterRef
from django.db.models.sql import compiler

from atende.core.exceptions import NotFound
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.selectors import undeliverable_flag
from atende.tickets.models import Category, Ticket
from atende.tickets.selectors import TICKET_RELATED, access_ticket
from atende.tickets.selectors_prepared import forget

RELATED = ("requester", "assignee", "team", "organization", "category", "category__parent")


def annotations():
    return {"requester_undeliverable": undeliverable_flag(OuterRef("requester__email"))}


def _as_orm_reads(number, related, annotate):
    qs = Ticket.objects.select_related(*related)
    if annotate:
        qs = qs.annotate(**annotate())
    return qs.get(number=number)


def _described(ticket, related):
    values = {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}
    for path in related:
        obj = ticket
        for part in path.split("__"):
            obj = getattr(obj, part) if obj is not None else None
        values[path] = None if obj is None else {f.attname: getattr(obj, f.attname)
                                                  for f in obj._meta.concrete_fields}
    values["undeliverable"] = getattr(ticket, "requester_undeliverable", "absent")
    return values


@pytest.fixture(autouse=True)
def _fresh():
    forget()
    yield
    forget()


@pytest.mark.django_db
@pytest.mark.parametrize("related,annotate", [(RELATED, annotations), (TICKET_RELATED, None), ((), None)])
def test_a_prepared_read_is_what_the_orm_reads(admin_user, team_ticket, ticket, agent, related, annotate):
    parent = Category.objects.create(name="Parent")
    team_ticket.category = Category.objects.create(name="Child", parent=parent)
    team_ticket.assignee = agent
    team_ticket.custom_fields = {"plan": "pro"}
    team_ticket.save()
    UndeliverableAddress.objects.create(address=team_ticket.requester.email.lower())
    for _round in range(2):  # built, then reused
        for t in (team_ticket, ticket):
            ours = access_ticket(user=admin_user, number=t.number, related=related, annotate=annotate)
            orm = _as_orm_reads(t.number, related, annotate)
            assert _described(ours, related) == _described(orm, related)
            assert ours._state.db == "default" and not ours._state.adding
            by_id = access_ticket(user=admin_user, ticket_id=t.pk, related=related, annotate=annotate)
            assert by_id.pk == t.pk
    assert access_ticket(user=admin_user, number=team_ticket.number, related=RELATED,
                         annotate=annotations).requester_undeliverable is True


@pytest.mark.django_db
def test_the_query_is_built_once(admin_user, team_ticket, ticket, monkeypatch):
    access_ticket(user=admin_user, number=team_ticket.number, related=RELATED, annotate=annotations)
    built = []
    original = compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        built.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(compiler.SQLCompiler, "as_sql", counting)
    for t in (ticket, team_ticket):
        assert access_ticket(user=admin_user, number=t.number, related=RELATED, annotate=annotations).pk == t.pk
    with pytest.raises(NotFound):
        access_ticket(user=admin_user, number=999_999, related=RELATED, annotate=annotations)
    assert built == []


@pytest.mark.django_db
def test_visibility_is_unchanged(team_ticket, ticket, agent, collaborator, customer, other_customer):
    """Only who sees every ticket reads through the kept SQL; the others' reads keep their filter."""
    for _round in range(2):
        assert access_ticket(user=agent, number=ticket.number, annotate=annotations).pk == ticket.pk
        assert access_ticket(user=collaborator, number=team_ticket.number).pk == team_ticket.pk
        with pytest.raises(NotFound):
            access_ticket(user=collaborator, number=ticket.number, annotate=annotations)
        assert access_ticket(user=customer, number=ticket.number).pk == ticket.pk
        with pytest.raises(NotFound):
            access_ticket(user=other_customer, number=ticket.number, annotate=annotations)
        for bad in ("x", None):
            with pytest.raises(NotFound):
                access_ticket(user=agent, number=bad)

"""Custom fields and forms: values validated against their definitions, required fields enforced."""

import datetime

import pytest

from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.choices import FieldKind, TicketEventType
from atende.tickets.fields import clean_custom_fields
from atende.tickets.models import Ticket, TicketForm, TicketFormField
from atende.tickets.services import ticket_create, ticket_update
from atende.tickets.tests.factories import CategoryFactory, CustomFieldFactory
from atende.tickets.tests.helpers import event_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields():
    return {
        "order": CustomFieldFactory(key="order", label="Order number", kind=FieldKind.TEXT),
        "seats": CustomFieldFactory(key="seats", label="Seats", kind=FieldKind.NUMBER),
        "since": CustomFieldFactory(key="since", label="Since", kind=FieldKind.DATE),
        "plan": CustomFieldFactory(key="plan", label="Plan", kind=FieldKind.DROPDOWN, choices=["free", "pro"]),
        "vip": CustomFieldFactory(key="vip", label="VIP", kind=FieldKind.CHECKBOX, customer_visible=False),
    }


@pytest.mark.parametrize(("values", "expected"), [
    ({"order": 1234}, {"order": "1234"}),
    ({"seats": "12"}, {"seats": 12}),
    ({"seats": "2.5"}, {"seats": 2.5}),
    ({"since": "2024-02-29"}, {"since": "2024-02-29"}),
    ({"since": datetime.datetime(2024, 3, 1, 10, 30)}, {"since": "2024-03-01"}),
    ({"plan": "pro"}, {"plan": "pro"}),
    ({"vip": "on"}, {"vip": True}),
    ({"vip": False}, {"vip": False}),
    ({"order": ""}, {}),
])
def test_values_are_coerced(values, expected, fields):
    assert clean_custom_fields(values) == expected


@pytest.mark.parametrize(("values", "bad"), [
    ({"seats": "many"}, "seats"),
    ({"seats": "NaN"}, "seats"),
    ({"since": "31/12/2024"}, "since"),
    ({"plan": "gold"}, "plan"),
    ({"vip": "perhaps"}, "vip"),
    ({"colour": "red"}, "colour"),
])
def test_bad_values_are_listed_in_one_error(values, bad, fields):
    with pytest.raises(ValidationError) as info:
        clean_custom_fields({**values, "plan": values.get("plan", "nope")})
    assert info.value.code == "invalid_custom_fields"
    assert bad in info.value.details and "plan" in info.value.details


def test_customers_cannot_fill_internal_fields(fields, customer):
    with pytest.raises(ValidationError) as info:
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Hi", body_text="b",
                      custom_fields={"vip": True})
    assert info.value.details == {"vip": "unknown field"}
    assert not Ticket.objects.exists()


def test_a_form_sets_type_category_team_and_requires_its_fields(fields, customer, team):
    category = CategoryFactory()
    form = TicketForm.objects.create(name="Billing", ticket_type="task", category=category, team=team)
    TicketFormField.objects.create(form=form, field=fields["order"], required=True)
    with pytest.raises(ValidationError) as info:
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Invoice", body_text="b", form=form)
    assert info.value.details == {"order": "this field is required"}
    ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Invoice", body_text="b",
                           form=form, custom_fields={"order": "A-1", "plan": "pro"})
    assert (ticket.type, ticket.category, ticket.team, ticket.form) == ("task", category, team, form)
    assert ticket.custom_fields == {"order": "A-1", "plan": "pro"}


def test_update_merges_values_and_keeps_form_requirements(fields, customer, agent):
    form = TicketForm.objects.create(name="Billing")
    TicketFormField.objects.create(form=form, field=fields["order"], required=True)
    ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Invoice", body_text="b",
                           form=form, custom_fields={"order": "A-1"})
    ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"custom_fields": {"vip": True, "seats": 3}})
    assert Ticket.objects.get(pk=ticket.pk).custom_fields == {"order": "A-1", "vip": True, "seats": 3}
    (event,) = event_rows(ticket, TicketEventType.FIELDS_CHANGED)
    assert event.data["old"]["custom_fields"] == {"order": "A-1"}
    assert event.data["new"]["custom_fields"] == {"order": "A-1", "vip": True, "seats": 3}
    with pytest.raises(ValidationError):
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"custom_fields": {"order": ""}})
    assert Ticket.objects.get(pk=ticket.pk).custom_fields["order"] == "A-1"


def test_inactive_fields_are_unknown(fields):
    fields["plan"].is_active = False
    fields["plan"].save()
    with pytest.raises(ValidationError):
        clean_custom_fields({"plan": "pro"})

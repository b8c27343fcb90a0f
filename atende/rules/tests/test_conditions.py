"""Every condition field and operator, evaluated against a real ticket, and refused when malformed."""

import pytest

from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.rules.conditions import explain, matches, validate_conditions
from atende.rules.context import RuleContext
from atende.tickets.models import CustomField
from atende.tickets.tests.factories import CategoryFactory, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(customer, team, agent, organization):
    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "pro"])
    CustomField.objects.create(key="seats", label="Seats", kind="number")
    category = CategoryFactory(name="Billing")
    customer.email = "maria@Acme.example"
    customer.save()
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, assignee=agent,
                         subject="Não consigo pagar a fatura", body="The invoice page crashes with error 500",
                         channel="email", type="incident", category=category, priority="high", urgency="high",
                         tags=["billing", "vip"], custom_fields={"plan": "pro", "seats": 12}, language="pt-br")
    return ticket, category


def check(ticket, field, op, value=None, payload=None, allow_changes=False):
    conditions = validate_conditions({"all": [{"field": field, "op": op, "value": value}]},
                                     allow_changes=allow_changes)
    return matches(conditions, RuleContext(ticket, payload))


@pytest.mark.parametrize("field,op,value,expected", [
    ("subject", "contains", "FATURA", True),
    ("subject", "contains", "nao consigo", True),  # accents and case ignored
    ("subject", "not_contains", "refund", True),
    ("subject", "starts_with", "não", True),
    ("subject", "ends_with", "fatura", True),
    ("subject", "is", "não consigo pagar a fatura", True),
    ("subject", "is_not", "other", True),
    ("body", "contains_any_words", "refund, invoice", True),
    ("body", "contains_all_words", "invoice crashes", True),
    ("body", "contains_all_words", "invoice refund", False),
    ("body", "contains_any_words", "inv", False),  # whole words only
    ("message", "contains", "error 500", True),
    ("requester_email", "ends_with", "@acme.example", True),
    ("sender_domain", "is", "acme.example", True),
    ("sender_domain", "in", ["globex.example", "acme.example"], True),
    ("status", "is", "new", True),
    ("status", "not_in", ["solved", "closed"], True),
    ("status_category", "is", "open", True),
    ("priority", "is", "high", True),
    ("priority", "at_least", "normal", True),
    ("priority", "at_least", "urgent", False),
    ("priority", "at_most", "high", True),
    ("urgency", "at_least", "medium", True),
    ("impact", "is", "medium", True),
    ("type", "is_not", "question", True),
    ("channel", "in", ["email", "web"], True),
    ("language", "is", "pt-br", True),
    ("tags", "includes_any", ["vip", "other"], True),
    ("tags", "includes_all", ["vip", "billing"], True),
    ("tags", "includes_all", ["vip", "other"], False),
    ("tags", "excludes", ["spam"], True),
    ("tags", "is_set", None, True),
    ("reopen_count", "lt", 1, True),
    ("reopen_count", "gte", 1, False),
    ("custom_fields.plan", "is", "pro", True),
    ("custom_fields.plan", "in", ["free"], False),
    ("custom_fields.seats", "gt", 10, True),
    ("custom_fields.seats", "lte", 10, False),
])
def test_condition_against_ticket(sample, field, op, value, expected):
    ticket, _category = sample
    assert check(ticket, field, op, value) is expected


def test_reference_fields(sample, team, agent, organization):
    ticket, category = sample
    assert check(ticket, "team", "is", team.pk)
    assert check(ticket, "assignee", "is", agent.pk)
    assert check(ticket, "assignee", "is_set")
    assert check(ticket, "organization", "in", [organization.pk])
    assert check(ticket, "category", "is", category.pk)
    assert not check(ticket, "category", "is_not_set")


def test_event_and_change_conditions(sample, agent):
    ticket, _ = sample
    payload = {"type": "STATUS_CHANGED", "actor_kind": "agent", "data": {"old": "new", "new": "pending"}}
    assert check(ticket, "status", "changed", payload=payload, allow_changes=True)
    assert check(ticket, "status", "changed_to", "pending", payload=payload, allow_changes=True)
    assert check(ticket, "status", "changed_from", "new", payload=payload, allow_changes=True)
    assert check(ticket, "priority", "not_changed", payload=payload, allow_changes=True)
    assert check(ticket, "actor_kind", "is", "agent", payload=payload)
    tags = {"type": "TAGS_CHANGED", "data": {"added": ["vip"], "removed": ["old"], "new": ["billing", "vip"]}}
    assert check(ticket, "tags", "added", ["vip"], payload=tags, allow_changes=True)
    assert check(ticket, "tags", "removed", ["old"], payload=tags, allow_changes=True)
    assigned = {"type": "ASSIGNEE_CHANGED", "data": {"old": None, "new": {"id": agent.pk, "name": "x"}}}
    assert check(ticket, "assignee", "changed_to", agent.pk, payload=assigned, allow_changes=True)
    assert not check(ticket, "assignee", "changed_from", agent.pk, payload=assigned, allow_changes=True)
    fields = {"type": "FIELDS_CHANGED", "data": {"old": {"custom_fields": {"plan": "free"}},
                                                 "new": {"custom_fields": {"plan": "pro"}}}}
    assert check(ticket, "custom_fields.plan", "changed_to", "pro", payload=fields, allow_changes=True)


def test_all_and_any_groups(sample):
    ticket, _ = sample
    conditions = validate_conditions({
        "all": [{"field": "priority", "op": "is", "value": "high"}],
        "any": [{"field": "channel", "op": "is", "value": "chat"}, {"field": "tags", "op": "includes_any",
                                                                     "value": "vip"}]})
    assert matches(conditions, RuleContext(ticket))
    ok, lines = explain(conditions, RuleContext(ticket))
    assert ok and [line["ok"] for line in lines] == [True, False, True]
    conditions["any"] = conditions["any"][:1]
    assert not matches(conditions, RuleContext(ticket))
    assert matches(validate_conditions({}), RuleContext(ticket))


@pytest.mark.parametrize("conditions,message", [
    ({"all": [{"field": "prioritty", "op": "is", "value": "high"}]}, "unknown field “prioritty”"),
    ({"all": [{"field": "priority", "op": "contains", "value": "h"}]}, "“contains” does not apply to priority"),
    ({"all": [{"field": "priority", "op": "is", "value": "hgh"}]}, "“hgh” is not a valid priority"),
    ({"all": [{"field": "team", "op": "is", "value": 99999}]}, "no team with id 99999"),
    ({"all": [{"field": "status", "op": "changed"}]}, "change conditions work in triggers only"),
    ({"all": [{"field": "subject", "op": "contains"}]}, "a value is required"),
    ({"some": []}, "only “all” and “any”"),
    ({"all": [{"field": "custom_fields.nope", "op": "is", "value": 1}]}, "unknown field"),
])
def test_malformed_conditions_are_refused_with_a_clear_message(db, conditions, message):
    with pytest.raises(ValidationError) as exc:
        validate_conditions(conditions)
    assert message in str(exc.value)

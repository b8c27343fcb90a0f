"""Custom field definitions are kept per process and read again, in every process, once one is saved or
deleted: the labels a ticket's values are shown under are never stale."""

from __future__ import annotations

import pytest

from atende.core import generations
from atende.core.testing.generations import another_process_commits, commit_generation_changes
from atende.tickets.models import CustomField, Ticket
from atende.tickets.selectors import CUSTOM_FIELDS, custom_field_values
from atende.tickets.tests.factories import CustomFieldFactory


@pytest.fixture
def valued(team_ticket):
    CustomFieldFactory(key="plan", label="Plan", position=2)
    CustomFieldFactory(key="seats", label="Seats", position=1, customer_visible=False)
    Ticket.objects.filter(pk=team_ticket.pk).update(custom_fields={"plan": "Gold", "seats": "12", "legacy": "x"})
    team_ticket.refresh_from_db()
    commit_generation_changes()
    return team_ticket


def test_values_are_shown_as_before_and_read_no_definitions_once_warm(valued, django_assert_num_queries):
    expected = [("Seats", "12"), ("Plan", "Gold"), ("legacy", "x")]
    assert custom_field_values(ticket=valued) == expected
    with django_assert_num_queries(0):
        assert custom_field_values(ticket=valued) == expected
        assert custom_field_values(ticket=valued, for_customer=True) == [("Plan", "Gold")]


@pytest.mark.parametrize("change", ["relabelled", "hidden from customers", "deleted", "added"])
def test_a_committed_change_shows_at_once(valued, change, django_capture_on_commit_callbacks):
    custom_field_values(ticket=valued)
    before = generations.token(CUSTOM_FIELDS)
    plan = CustomField.objects.get(key="plan")
    with django_capture_on_commit_callbacks(execute=True):
        if change == "relabelled":
            plan.label = "Subscription"
            plan.save()
        elif change == "hidden from customers":
            plan.customer_visible = False
            plan.save()
        elif change == "deleted":
            plan.delete()
        else:
            CustomFieldFactory(key="legacy", label="Legacy field")
    assert generations.token(CUSTOM_FIELDS) != before
    shown = dict(custom_field_values(ticket=valued))
    customer = dict(custom_field_values(ticket=valued, for_customer=True))
    if change == "relabelled":
        assert shown.get("Subscription") == "Gold" and "Plan" not in shown
    elif change == "hidden from customers":
        assert customer == {}
    elif change == "deleted":
        assert shown.get("plan") == "Gold" and "Plan" not in shown  # a value without a definition: its key
    else:
        assert shown.get("Legacy field") == "x"


def test_a_change_committed_in_another_process_shows_on_the_next_read(valued):
    assert ("Plan", "Gold") in custom_field_values(ticket=valued)
    CustomField.objects.filter(key="plan").update(label="Tier")  # no signal in this process
    assert ("Plan", "Gold") in custom_field_values(ticket=valued)
    another_process_commits(CUSTOM_FIELDS)
    assert ("Tier", "Gold") in custom_field_values(ticket=valued)

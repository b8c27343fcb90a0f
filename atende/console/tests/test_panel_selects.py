"""The workspace panel renders its selects in Python; the markup must stay what Django's templates write."""

import re

import pytest
from django import forms

from atende.console.forms_workspace import PythonSelect, TicketFieldsForm
from atende.tickets.models import CustomField


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html).strip())


@pytest.mark.django_db
def test_panel_selects_match_djangos_markup(team_ticket, other_agent):
    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", position=1, choices=["free", "pro"],
                               choice_labels={"free": "Free & <b>basic</b>", "pro": "Pro"})
    team_ticket.assignee = other_agent
    team_ticket.custom_fields = {"plan": "pro"}
    form = TicketFieldsForm(ticket=team_ticket)
    selects = [name for name, field in form.fields.items() if isinstance(field.widget, PythonSelect)]
    assert {"team", "assignee", "status", "priority", "category", "cf_plan"} <= set(selects)
    for name in selects:
        ours = str(form[name])
        form.fields[name].widget.__class__ = forms.Select
        assert _normalised(ours) == _normalised(form[name]), name
    assert f'<option value="{other_agent.pk}" selected>' in str(form["assignee"])

"""The workspace forms render their selects, text boxes and text areas in Python; the markup must stay what
Django's templates write."""

import re

import pytest
from django import forms

from atende.console.forms_workspace import PYTHON_WIDGETS, PythonSelect, ReplyForm, TicketFieldsForm
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


@pytest.mark.django_db
@pytest.mark.parametrize("subject", ['Printer <b>"jammed"</b> & more', ""])
def test_every_python_widget_matches_djangos_markup(team_ticket, subject):
    CustomField.objects.create(key="order", label="Order", kind="text", position=1)
    team_ticket.subject = subject
    team_ticket.resolution_summary = "Fixed <it> & closed" if subject else ""
    team_ticket.custom_fields = {"order": "A&B 12"} if subject else {}
    django_class = {python: django for django, python in PYTHON_WIDGETS.items()}
    for form in (TicketFieldsForm(ticket=team_ticket), ReplyForm(ticket=team_ticket, can_reply=True)):
        fields = [name for name, field in form.fields.items() if type(field.widget) in django_class]
        for name in fields:
            ours = str(form[name])
            form.fields[name].widget.__class__ = django_class[type(form.fields[name].widget)]
            assert _normalised(ours) == _normalised(form[name]), (name, ours)
    assert {"subject", "requester", "resolution_summary", "tags", "expected_version", "cf_order"} <= set(
        name for name, field in TicketFieldsForm(ticket=team_ticket).fields.items()
        if type(field.widget) in django_class)


@pytest.mark.django_db
def test_panel_options_are_the_models_own_choices(team_ticket, other_agent, agent):
    """The panel reads team, agent and category options as plain values: the same values and labels, in the same
    order, as the fields' querysets give (nested categories, an agent without a name, inactive ones left out)."""
    from atende.accounts.tests.factories import AgentFactory, TeamFactory
    from atende.tickets.models import Category

    TeamFactory(name="Zeta <b>team</b>")
    AgentFactory(name="", email="noname@example.com")
    AgentFactory(name="Gone", is_active=False)
    top = Category.objects.create(name="Technical")
    middle = Category.objects.create(name="Login", parent=top)
    Category.objects.create(name="SSO & SAML", parent=middle)
    Category.objects.create(name="Old", parent=top, is_active=False)
    retired = Category.objects.create(name="Retired", is_active=False)
    Category.objects.create(name="Still used", parent=retired)
    form = TicketFieldsForm(ticket=team_ticket)
    for name in ("team", "assignee", "category"):
        field = form.fields[name]
        ours = [(str(value), str(label)) for value, label in field.widget.choices]
        models = [(str(value), str(label)) for value, label in field.choices]
        assert ours == models, name
        assert len(ours) > 2, name
    labels = [label for _value, label in form.fields["category"].widget.choices]
    assert "Technical › Login › SSO & SAML" in labels and "Retired › Still used" in labels
    assert "Technical › Old" not in labels

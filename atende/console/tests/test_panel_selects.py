"""The workspace forms render their selects, text boxes and text areas in Python; the markup must stay what
Django's templates write."""

import re

import pytest
from django import forms

from atende.console.forms_workspace import (
    PYTHON_WIDGETS,
    MultipleFileInput,
    PythonSelect,
    ReplyForm,
    TicketFieldsForm,
)
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


class _DjangosMultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _djangos_field_group(form, name) -> str:
    """The field group as Django's own templates write it (``field.html``, ``label.html``, the widget's)."""
    field = form.fields[name]
    django_class = {python: django for django, python in PYTHON_WIDGETS.items()}
    django_class[MultipleFileInput] = _DjangosMultipleFileInput
    original = type(field.widget)
    field.widget.__class__ = django_class.get(original, original)
    try:
        return forms.BoundField(form, field, name).as_field_group()
    finally:
        field.widget.__class__ = original


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, {"kind": "bogus", "body": "", "set_status": "nope"},
                                  {"kind": "note", "body": 'Hi <b>"there"</b> & bye', "set_status": ""}])
@pytest.mark.parametrize("can_reply", [True, False])
def test_field_groups_match_djangos_markup(team_ticket, data, can_reply):
    """Every field group of the workspace forms (label or legend, help text, errors, the widget: radios, file
    input, selects, text boxes), unbound and bound, with and without errors, is what Django's templates write."""
    CustomField.objects.create(key="order", label="Order <no>", kind="text", position=1, help_text="From <b>ERP</b>")
    forms_under_test = [ReplyForm(data, ticket=team_ticket, can_reply=can_reply),
                        TicketFieldsForm({"subject": ""} if data else None, ticket=team_ticket)]
    seen = set()
    for form in forms_under_test:
        if data:
            form.is_valid()
        for name in form.fields:
            if form.fields[name].widget.is_hidden:
                continue
            ours = str(form[name].as_field_group())
            assert _normalised(ours) == _normalised(_djangos_field_group(form, name)), (name, ours)
            seen.add(type(form.fields[name].widget).__name__)
    assert {"PythonRadioSelect", "MultipleFileInput", "PythonSelect", "PythonTextarea"} <= seen


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent", "collaborator"])
def test_the_ticket_page_renders_no_form_template(client, team_ticket, request, who):
    """The reply box and the side panel are written in Python: a form template rendered per field, label, error
    list and radio option was a large part of the ticket page's time."""
    from django.test.signals import template_rendered

    CustomField.objects.create(key="order", label="Order", kind="text", position=1, help_text="From the ERP")
    client.force_login(request.getfixturevalue(who))
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        response = client.get(f"/console/tickets/{team_ticket.number}/")
    finally:
        template_rendered.disconnect(record)
    assert response.status_code == 200
    assert b'id="reply_kind_0"' in response.content or who == "collaborator"
    assert b'name="attachments" multiple id="reply_attachments"' in response.content
    assert "console/_ticket_reply.html" in rendered
    assert [name for name in rendered if name and name.startswith("django/forms/")] == []


def _options(page: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option of the side panel's select ``name``."""
    from html import unescape

    body = re.search(rf'<select name="{name}"[^>]*id="panel_{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(unescape(value), unescape(label), bool(chosen))
            for value, chosen, label in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', body)]


@pytest.mark.django_db
def test_panel_options_show_agents_teams_and_categories_added_or_renamed_since_the_last_page(
        client, settings, team_ticket, agent, other_agent, admin_user, django_capture_on_commit_callbacks):
    """The panel's option lists are kept per process and written once: an agent, team or category added or renamed
    (through the services and the admin, which outdate the copies) shows on the next page, and each ticket's own
    values are the ones selected."""
    from atende.accounts.choices import Role
    from atende.accounts.services import team_create, user_create, user_update_profile
    from atende.console.tests.admin_writes import admin_save
    from atende.tickets.models import Category

    settings.DEBUG = False
    client.force_login(agent)
    url = f"/console/tickets/{team_ticket.number}/"

    def page() -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    first = page()
    assert [label for _v, label, chosen in _options(first, "team") if chosen] == [team_ticket.team.name]
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = user_create(email="newcomer@example.com", name="Newcomer & <Co>", role=Role.AGENT)
        team = team_create(name="Night shift", slug="night-shift")
        category = admin_save(admin_user, Category(name="Billing"))
    second = page()
    assert (str(newcomer.pk), "Newcomer & <Co>", False) in _options(second, "assignee")
    assert (str(team.pk), "Night shift", False) in _options(second, "team")
    assert (str(category.pk), "Billing", False) in _options(second, "category")
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=other_agent, name="Renamed agent")
        team.name, category.name = "Day shift", "Invoices"
        admin_save(admin_user, team)
        admin_save(admin_user, category)
    team_ticket.assignee, team_ticket.category = newcomer, category
    team_ticket.save(update_fields=["assignee", "category"])
    third = page()
    assert (str(other_agent.pk), "Renamed agent", False) in _options(third, "assignee")
    assert (str(newcomer.pk), "Newcomer & <Co>", True) in _options(third, "assignee")
    assert (str(team.pk), "Day shift", False) in _options(third, "team")
    assert (str(category.pk), "Invoices", True) in _options(third, "category")
    assert [chosen for _v, _label, chosen in _options(third, "assignee")].count(True) == 1
    assert "Night shift" not in third and "Billing" not in third


@pytest.mark.django_db
def test_panel_options_are_in_the_readers_language(client, settings, team_ticket, agent):
    settings.DEBUG = False
    client.force_login(agent)
    url = f"/console/tickets/{team_ticket.number}/"
    english = client.get(url).content.decode()
    agent.locale = "pt-br"
    agent.save(update_fields=["locale"])
    portuguese = client.get(url).content.decode()
    assert ("", "Nobody", False) in _options(english, "assignee") or _options(english, "assignee")[0][1] == "Nobody"
    assert _options(portuguese, "assignee")[0][1] != _options(english, "assignee")[0][1]
    assert _options(portuguese, "urgency")[0][1] != _options(english, "urgency")[0][1]

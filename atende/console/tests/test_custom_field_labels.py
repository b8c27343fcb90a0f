"""Custom fields read as people wrote them: a dropdown's stored value (``enterprise``) is shown as its label
("Enterprise", "Empresarial" in Portuguese) everywhere a person reads it: the console's side panel (edit and
read-only), the timeline, the portal's request form and request page, and the API's field definitions."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from atende.api.tests.conftest import ApiClient, token_for
from atende.core.actor import Actor
from atende.tickets.choices import FieldKind
from atende.tickets.models import CustomField, TicketForm, TicketFormField
from atende.tickets.services import ticket_update
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

LABELS = {"en": {"free": "Free", "pro": "Pro", "enterprise": "Enterprise"},
          "pt-br": {"free": "Gratuito", "pro": "Pro", "enterprise": "Empresarial"}}
FIELD_NAME = {"en": "Plan", "pt-br": "Plano"}


@pytest.fixture
def plan(db):
    field = CustomField.objects.create(key="plan", label="Plan", label_pt_br="Plano", kind=FieldKind.DROPDOWN,
                                       choices=["free", "pro", "enterprise"], choice_labels=LABELS["en"],
                                       choice_labels_pt_br={"free": "Gratuito", "enterprise": "Empresarial"})
    form = TicketForm.objects.create(name="General", is_default=True)
    TicketFormField.objects.create(form=form, field=field)
    CustomField.objects.create(key="internal_code", label="Internal code", kind=FieldKind.TEXT,
                               customer_visible=False)
    return field


@pytest.fixture
def enterprise_ticket(plan, customer, team, agent):
    return make_ticket(requester=customer, actor=Actor.for_user(agent), team=team,
                       custom_fields={"plan": "enterprise", "internal_code": "X-9"})


def _visible_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_every_choice_has_a_label_in_every_language(plan, language):
    assert plan.options(language) == list(LABELS[language].items())
    assert plan.display_label(language) == FIELD_NAME[language]
    assert plan.display_value("enterprise", language) == LABELS[language]["enterprise"]
    assert plan.option_label("gone", language) == "gone"  # a value no longer offered reads as itself


def test_labels_must_name_existing_choices(plan):
    plan.choice_labels = {"platinum": "Platinum"}
    with pytest.raises(ValidationError, match="platinum"):
        plan.full_clean()
    plan.choice_labels = {"pro": 3}
    with pytest.raises(ValidationError):
        plan.full_clean()


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_console_panel_offers_labels_and_saves_values(client, enterprise_ticket, agent, language):
    agent.locale = language
    agent.save(update_fields=["locale"])
    client.force_login(agent)
    html = client.get(reverse("console:ticket", kwargs={"number": enterprise_ticket.number})).content.decode()
    select = re.search(r'<select name="cf_plan".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[1:] == list(LABELS[language].items())
    assert re.search(r'<option value="enterprise" selected>', select)
    assert f">{FIELD_NAME[language]}</label>" in html


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_read_only_panel_and_timeline_show_labels(client, enterprise_ticket, agent, collaborator, language):
    ticket_update(ticket=enterprise_ticket, actor=Actor.for_user(agent), changes={"custom_fields": {"plan": "pro"}})
    collaborator.locale = language
    collaborator.save(update_fields=["locale"])
    client.force_login(collaborator)
    html = client.get(reverse("console:ticket", kwargs={"number": enterprise_ticket.number})).content.decode()
    text = _visible_text(html)
    assert f"{FIELD_NAME[language]} {LABELS[language]['pro']}" in text  # read-only panel
    assert f"{FIELD_NAME[language]}: {LABELS[language]['enterprise']} → {LABELS[language]['pro']}" in text
    assert "Internal code X-9" in text  # agents and collaborators see every field
    assert "enterprise" not in text and "'plan'" not in text


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_portal_form_and_request_page_show_labels(client, enterprise_ticket, customer, language):
    customer.locale, customer.email_verified = language, True
    customer.save(update_fields=["locale", "email_verified"])
    client.force_login(customer)
    form = client.get(reverse("portal:request_new")).content.decode()
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>',
                         re.search(r'<select name="cf_plan".*?</select>', form, re.S).group(0))
    assert options[1:] == list(LABELS[language].items())
    page = _visible_text(client.get(reverse("portal:ticket", kwargs={"number": enterprise_ticket.number}))
                         .content.decode())
    assert f"{FIELD_NAME[language]} {LABELS[language]['enterprise']}" in page
    assert "X-9" not in page  # a field hidden from customers stays hidden


def test_api_lists_each_choice_with_its_label(plan, agent):
    api = ApiClient(token_for(agent))
    [field] = [f for f in api.get("/custom-fields").json() if f["key"] == "plan"]
    assert field["choices"] == ["free", "pro", "enterprise"]
    assert field["options"] == [{"value": v, "label": label} for v, label in LABELS["en"].items()]
    pt = api.get("/custom-fields", headers={"Accept-Language": "pt-BR"}).json()
    assert [o["label"] for o in next(f for f in pt if f["key"] == "plan")["options"]] == ["Gratuito", "Pro",
                                                                                          "Empresarial"]

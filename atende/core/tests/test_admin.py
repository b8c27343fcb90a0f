"""The Django admin: configuration is editable; tickets, their events and refused attempts are read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from atende.accounts.models import Organization, Team, User
from atende.core.models import SiteConfiguration, ThrottleBucket
from atende.tickets.models import Ticket, TicketEvent, TicketSettings
from atende.tickets.tests.factories import CategoryFactory, CustomFieldFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("core_urls")]

CORE_APPS = {"core", "accounts", "tickets"}
READ_ONLY = {Ticket, TicketEvent, ThrottleBucket}
SINGLETONS = {TicketSettings, SiteConfiguration}  # one row: "add" only while it does not exist yet


def _models():
    return sorted((m for m in admin.site._registry if m._meta.app_label in CORE_APPS), key=lambda m: m._meta.label)


def test_the_configuration_models_are_registered():
    labels = {m._meta.label for m in _models()}
    assert {"accounts.User", "accounts.Organization", "accounts.Team", "tickets.Category", "tickets.CustomField",
            "tickets.TicketForm", "tickets.TicketSettings", "tickets.Ticket", "tickets.TicketEvent",
            "tickets.Tag", "core.SiteConfiguration"} <= labels


@pytest.mark.parametrize("model", _models(), ids=lambda m: m._meta.label)
def test_changelist_and_add_pages_render(model, client, admin_user, ticket):
    client.force_login(admin_user)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    add = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    if model in READ_ONLY or (model in SINGLETONS and model.objects.exists()):
        assert add.status_code == 403
    else:
        assert add.status_code == 200
    first = model.objects.first()
    if first is not None:
        change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
        assert change.status_code == 200


def test_tickets_and_events_cannot_be_edited_or_deleted(client, admin_user, ticket):
    client.force_login(admin_user)
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    page = client.get(url)
    assert 'name="_save"' not in page.text
    client.post(url, {"subject": "Changed in the admin"})
    assert Ticket.objects.get(pk=ticket.pk).subject == "Printer on fire"
    event = TicketEvent.objects.get()
    assert client.post(reverse("admin:tickets_ticketevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert TicketEvent.objects.count() == 1


def test_admin_adds_a_user_with_a_password(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_user_add"), {
        "email": "new.agent@support.example", "name": "New Agent", "role": "agent",
        "password1": "a-Strong-pass-42", "password2": "a-Strong-pass-42", "usable_password": "true",
    })
    assert response.status_code == 302, response.text[:2000]
    user = User.objects.get(email="new.agent@support.example")
    assert user.role == "agent" and user.check_password("a-Strong-pass-42")


def test_admin_edits_organisation_domains_and_team_members(client, admin_user, agent):
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_organization_add"), {
        "name": "Initech", "notes": "", "custom_fields": "{}", "shares_tickets": "on",
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "0", "domains-0-domain": "@Initech.Example",
    })
    assert response.status_code == 302, response.text[:2000]
    org = Organization.objects.get(name="Initech")
    assert org.shares_tickets and list(org.domains.values_list("domain", flat=True)) == ["initech.example"]
    response = client.post(reverse("admin:accounts_team_add"), {
        "name": "Field Ops", "slug": "field-ops", "email": "", "assignment_strategy": "manual",
        "teammembership_set-TOTAL_FORMS": "1", "teammembership_set-INITIAL_FORMS": "0",
        "teammembership_set-0-user": str(agent.pk),
    })
    assert response.status_code == 302, response.text[:2000]
    assert list(Team.objects.get(slug="field-ops").members.all()) == [agent]


def test_admin_edits_the_priority_matrix_and_autoclose_delay(client, admin_user):
    client.force_login(admin_user)
    config = TicketSettings.load()
    url = reverse("admin:tickets_ticketsettings_change", args=[config.pk])
    bad = client.post(url, {"priority_matrix": '{"high": {"high": "critical"}}', "autoclose_after_hours": "48",
                            "on_hold_pauses_sla": "on"})
    assert bad.status_code == 200 and "Unknown priority" in bad.text
    good = client.post(url, {"priority_matrix": '{"high": {"high": "high"}}', "autoclose_after_hours": "48",
                             "on_hold_pauses_sla": "on"})
    assert good.status_code == 302
    config.refresh_from_db()
    assert config.autoclose_after_hours == 48 and config.priority_for("high", "high") == "high"


def test_admin_manages_categories_fields_and_forms(client, admin_user):
    client.force_login(admin_user)
    parent = CategoryFactory(name="Technical")
    field = CustomFieldFactory(key="order", label="Order")
    response = client.post(reverse("admin:tickets_ticketform_add"), {
        "name": "Orders", "name_pt_br": "Pedidos", "description": "", "ticket_type": "question",
        "customer_visible": "on", "position": "0",
        "form_fields-TOTAL_FORMS": "1", "form_fields-INITIAL_FORMS": "0",
        "form_fields-0-field": str(field.pk), "form_fields-0-required": "on", "form_fields-0-position": "1",
    })
    assert response.status_code == 302, response.text[:2000]
    response = client.post(reverse("admin:tickets_category_add"), {"name": "VPN", "parent": str(parent.pk),
                                                                    "is_active": "on"})
    assert response.status_code == 302, response.text[:2000]
    from atende.tickets.models import Category, TicketForm

    assert str(Category.objects.get(name="VPN")) == "Technical › VPN"
    assert TicketForm.objects.get(name="Orders").form_fields.get().required


def test_non_admins_cannot_open_the_admin(client, agent, customer):
    for user in (agent, customer):
        client.force_login(user)
        assert client.get(reverse("admin:index")).status_code == 302

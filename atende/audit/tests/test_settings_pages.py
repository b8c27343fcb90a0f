"""The settings gaps closed through real requests: reordering triggers on the console page, and a ticket form's
fields edited inline in the Django admin, each recorded with the admin's IP and what changed."""

from atende.accounts.tests.factories import AdminFactory
from atende.audit.models import AuditEntry
from atende.automation.services.definitions import rule_save
from atende.tickets.choices import FieldKind
from atende.tickets.models import TicketForm
from atende.tickets.tests.factories import CustomFieldFactory

IP = "203.0.113.44"


def test_moving_a_trigger_up_records_the_order_before_and_after(client, db):
    admin = AdminFactory()
    for name in ("Tag VIPs", "Notify billing", "Escalate"):
        last = rule_save(kind="trigger", name=name, conditions={}, events=["created"],
                         actions=[{"type": "set_priority", "value": "high"}])
    client.force_login(admin)
    response = client.post(f"/console/automation/triggers/{last.pk}/move/", {"direction": "up"}, REMOTE_ADDR=IP)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(data__operation="reordered")
    assert (entry.actor, entry.ip, entry.target_label) == (admin, IP, "Escalate")
    assert entry.changes == {"order": [["Tag VIPs", "Notify billing", "Escalate"],
                                       ["Tag VIPs", "Escalate", "Notify billing"]]}


def _form_post(field_id: int, *, required: bool, row_id: str = "", form_id: str = "") -> dict:
    data = {"name": "Bug report", "name_pt_br": "", "description": "", "ticket_type": "problem", "category": "",
            "team": "", "customer_visible": "on", "position": "0",
            "form_fields-TOTAL_FORMS": "1", "form_fields-INITIAL_FORMS": "1" if row_id else "0",
            "form_fields-MIN_NUM_FORMS": "0", "form_fields-MAX_NUM_FORMS": "1000",
            "form_fields-0-id": row_id, "form_fields-0-form": form_id, "form_fields-0-field": str(field_id),
            "form_fields-0-position": "1"}
    if required:
        data["form_fields-0-required"] = "on"
    return data


def test_a_ticket_forms_fields_edited_inline_are_recorded(client, db):
    admin = AdminFactory()
    plan = CustomFieldFactory(kind=FieldKind.TEXT)
    client.force_login(admin)
    response = client.post("/admin/tickets/ticketform/add/", _form_post(plan.pk, required=False), REMOTE_ADDR=IP)
    assert response.status_code == 302, response.content.decode()[:3000]
    form = TicketForm.objects.get(name="Bug report")
    row = form.form_fields.get()
    response = client.post(f"/admin/tickets/ticketform/{form.pk}/change/",
                           _form_post(plan.pk, required=True, row_id=str(row.pk), form_id=str(form.pk)),
                           REMOTE_ADDR=IP)
    assert response.status_code == 302, response.content.decode()[:3000]
    created, added, required = AuditEntry.objects.filter(target_type="tickets.ticketform").order_by("id")
    assert created.data["operation"] == "created" and created.changes["name"] == [None, "Bug report"]
    assert added.changes == {"form_fields": [[], [{"field": plan.pk, "required": False, "position": 1}]]}
    assert required.changes == {"form_fields": [[{"field": plan.pk, "required": False, "position": 1}],
                                                [{"field": plan.pk, "required": True, "position": 1}]]}
    assert {e.ip for e in (created, added, required)} == {IP} and required.actor == admin


def test_the_log_page_speaks_the_admins_language(client, db):
    from atende.automation.services.definitions import canned_reply_delete, canned_reply_save

    admin = AdminFactory(locale="pt-br")
    canned = canned_reply_save(user=admin, title="Reembolso", body="Cinco dias úteis.")
    canned_reply_delete(user=admin, canned=canned)
    client.force_login(admin)
    page = client.get("/console/audit/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Configurações alteradas" in page
    assert "(excluído)" in page and "(criado)" in page and "(deleted)" not in page
    assert "com quem fez, quando e de onde" in page

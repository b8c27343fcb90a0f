"""The audit log: what the apps' services and the Django admin record, the page, the CSV, the API, erasure."""

import csv
import io

import pytest

from atende.accounts.choices import Role
from atende.accounts.tests.factories import AdminFactory, AgentFactory, CustomerFactory
from atende.api.services import api_token_create, api_token_revoke
from atende.api.tests.conftest import ApiClient, token_for
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.audit.services import audit_record
from atende.core.actor import Actor
from atende.integrations.services import (
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)
from atende.integrations.services.privacy import privacy_erase
from atende.sla.services.definitions import policy_delete, policy_save


@pytest.fixture
def admin(db):
    return AdminFactory(email="boss@atende.test")


def test_webhook_changes_are_recorded_with_what_changed_and_secrets_hidden(admin):
    actor = Actor.for_user(admin)
    hook = webhook_subscription_create(actor=actor, name="CRM", url="https://crm.example/hook", event_types=["*"])
    webhook_subscription_update(actor=actor, subscription=hook, changes={"name": "CRM v2"}, rotate_secret=True)
    webhook_subscription_update(actor=actor, subscription=hook, changes={"name": "CRM v2"})  # nothing changed
    webhook_subscription_delete(actor=actor, subscription=hook)
    entries = list(AuditEntry.objects.filter(target_type="integrations.webhooksubscription").order_by("id"))
    assert [e.data["operation"] for e in entries] == ["created", "updated", "deleted"]
    assert all(e.action == AuditAction.SETTINGS_CHANGED and e.actor == admin for e in entries)
    assert entries[1].changes == {"name": ["CRM", "CRM v2"], "secret": ["[hidden]", "[hidden]"]}
    assert entries[0].changes["url"] == [None, "https://crm.example/hook"]
    assert "[hidden]" in str(entries[0].changes["secret"])


def test_sla_policy_saves_and_deletes_are_recorded(admin):
    policy = policy_save(user=admin, name="Gold", first_reply_minutes=60)
    policy_save(user=admin, policy=policy, name="Gold", first_reply_minutes=30)
    policy_delete(user=admin, policy=policy)
    entries = list(AuditEntry.objects.filter(target_type="sla.slapolicy").order_by("id"))
    assert [e.data["operation"] for e in entries] == ["created", "updated", "deleted"]
    assert entries[1].changes == {"first_reply_minutes": [60, 30]}


def test_api_tokens_created_and_revoked_are_recorded(admin):
    agent = AgentFactory()
    token, _raw = api_token_create(actor=Actor.for_user(admin), user=agent, name="CI", scope="read")
    api_token_revoke(actor=Actor.for_user(agent), token=token)
    created, revoked = AuditEntry.objects.filter(subject=agent).order_by("id")
    assert (created.action, created.actor, created.data["scope"]) == (AuditAction.API_TOKEN_CREATED, admin, "read")
    assert (revoked.action, revoked.actor) == (AuditAction.API_TOKEN_REVOKED, agent)
    assert token.prefix in revoked.target_label


def test_changes_through_the_django_admin_are_recorded_with_the_ip(admin, client):
    client.force_login(admin)
    response = client.post("/admin/email_channel/mailbox/add/", {
        "name": "Support", "address": "help@acme.example", "is_active": "on", "imap_host": "imap.acme.example",
        "imap_port": "993", "tls": "ssl", "auth_method": "password", "username": "help", "password": "hunter22",
        "oauth2_token": "", "folder": "INBOX", "after_store": "seen", "move_to_folder": ""},
        REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(target_type="email_channel.mailbox")
    assert entry.ip == "198.51.100.20" and entry.data["operation"] == "created"
    assert entry.changes["password"] == ["[hidden]", "[hidden]"] and "hunter22" not in str(entry.changes)

    agent = AgentFactory(email="ana@atende.test")
    response = client.post(f"/admin/accounts/user/{agent.pk}/change/", {
        "email": agent.email, "name": agent.name, "role": Role.ADMIN, "is_active": "on", "locale": "",
        "time_zone": "", "phone": "", "signature": "", "notes": "", "availability": "offline", "capacity": "",
        "skills": "[]"})
    assert response.status_code == 302, response.content.decode()[:3000]
    role = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED)
    assert role.subject == agent and role.changes == {"role": ["agent", "admin"]} and role.actor == admin


def test_the_log_cannot_be_edited_or_deleted_in_the_admin(admin, client):
    entry = audit_record(action=AuditAction.SIGNIN_SUCCEEDED, actor=admin, subject=admin)
    client.force_login(admin)
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200  # view only
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, action=AuditAction.SIGNIN_SUCCEEDED).exists()


def test_admins_filter_and_export_the_log_and_nobody_else_reads_it(admin, client):
    agent = AgentFactory(email="agent7@atende.test")
    audit_record(action=AuditAction.SIGNIN_FAILED, subject=agent, ip="203.0.113.5", data={"reason": "password"})
    audit_record(action=AuditAction.SIGNIN_SUCCEEDED, actor=admin, subject=admin, ip="203.0.113.6")
    audit_record(action=AuditAction.SETTINGS_CHANGED, actor=admin, target_type="branding", target_label="=HYPERLINK()",
                 changes={"name": ["Atende", "Acme"]}, data={"operation": "updated"})
    client.force_login(agent)
    assert client.get("/console/audit/").status_code == 404
    client.force_login(admin)
    page = client.get("/console/audit/", {"action": "signin_failed"}).content.decode()
    assert "agent7@atende.test" in page and "203.0.113.6" not in page
    response = client.get("/console/audit/", {"person": "agent7", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time", "action", "actor"] and len(rows) == 2 and rows[1][1] == "signin_failed"
    everything = b"".join(client.get("/console/audit/", {"format": "csv"}).streaming_content).decode()
    assert "'=HYPERLINK()" in everything  # a cell a spreadsheet would run as a formula is quoted


def test_api_reads_the_log_for_admin_tokens_only_and_has_no_way_to_change_it(admin):
    audit_record(action=AuditAction.SIGNIN_FAILED, subject_label="nobody@example.com", ip="203.0.113.5")
    api = ApiClient(token_for(admin, "admin"))
    body = api.get("/audit", {"action": "signin_failed"}).json()
    assert [i["person"] for i in body["items"]] == ["nobody@example.com"] and body["items"][0]["ip"] == "203.0.113.5"
    assert ApiClient(token_for(admin, "write")).get("/audit").status_code == 403
    assert ApiClient(token_for(AgentFactory(), "write")).get("/audit").status_code == 403
    assert api.get("/audit", {"action": "nonsense"}).status_code == 422
    assert api.get("/audit", {"ip": "0000000000"}).status_code == 422
    assert api.get("/audit", {"ip": "203.0.113.5"}).json()["items"][0]["ip"] == "203.0.113.5"
    entry_id = body["items"][0]["id"]
    assert api.delete(f"/audit/{entry_id}").status_code in (404, 405)
    assert api.post("/audit", {"action": "signin_succeeded"}).status_code == 405


def test_privacy_erasure_pseudonymises_the_person_in_the_log(admin):
    person = CustomerFactory(email="carla@cliente.example", name="Carla Cliente")
    audit_record(action=AuditAction.SIGNIN_SUCCEEDED, actor=person, subject=person, ip="203.0.113.9",
                 user_agent="Firefox")
    audit_record(action=AuditAction.SIGNIN_FAILED, subject_label="carla@cliente.example", data={"email": "Carla@cliente.example"})
    audit_record(action=AuditAction.TEAMS_CHANGED, actor=admin, target_type="accounts.team", target_label="Support",
                 changes={"members": [["ana@atende.test"], ["ana@atende.test", "carla@cliente.example"]]},
                 data={"added": ["carla@cliente.example"]})
    privacy_erase(actor=Actor.for_user(admin), person=person)
    text = str(list(AuditEntry.objects.values()))
    assert "carla@cliente.example" not in text.lower() and "Carla Cliente" not in text
    signin = AuditEntry.objects.get(action=AuditAction.SIGNIN_SUCCEEDED)
    assert signin.actor_label == f"erased-person-{person.pk}" and signin.ip is None and signin.user_agent == ""
    assert AuditEntry.objects.filter(action=AuditAction.PERSON_ERASED, subject=person, actor=admin).exists()
    team = AuditEntry.objects.get(action=AuditAction.TEAMS_CHANGED)  # named only in what changed
    assert team.changes["members"][1] == ["ana@atende.test", f"erased-person-{person.pk}"]
    assert team.actor_label == "boss@atende.test"


def test_scheduled_reports_are_recorded_with_their_recipients(admin):
    from atende.reports.services.schedules import report_schedule_delete, report_schedule_save

    schedule = report_schedule_save(actor=admin, name="Weekly", recipients=["boss@acme.example"], frequency="weekly")
    report_schedule_save(actor=admin, schedule=schedule, name="Weekly", recipients=["leak@elsewhere.example"],
                         frequency="weekly")
    report_schedule_delete(actor=admin, schedule=schedule)
    entries = list(AuditEntry.objects.filter(target_type="reports.reportschedule").order_by("id"))
    assert [e.data["operation"] for e in entries] == ["created", "updated", "deleted"]
    assert entries[1].changes == {"recipients": [["boss@acme.example"], ["leak@elsewhere.example"]]}

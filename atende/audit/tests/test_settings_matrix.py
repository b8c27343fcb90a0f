"""Every write path of every settings model (``atende/audit/registry.py``) leaves an audit entry with the actor,
the request's IP and what changed (old and new values on an update). A new model fails
``test_every_model_is_classified`` until it is placed in the registry; a settings model fails
``test_every_settings_write_path_is_exercised`` until it has a case here, and the case fails until the path records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin as django_admin
from django.test import RequestFactory

from atende.accounts.tests.factories import AdminFactory, AgentFactory, TeamFactory
from atende.audit.admin import AuditedAdmin
from atende.audit.context import AuditContextMiddleware
from atende.audit.models import AuditEntry
from atende.audit.registry import NOT_SETTINGS, SETTINGS_MODELS
from atende.core.actor import Actor
from atende.tickets.choices import FieldKind
from atende.tickets.tests.factories import CustomFieldFactory

IP = "198.51.100.77"
UPDATED = "updated"


def from_ip(run: Callable[[], object]) -> object:
    """Run ``run`` as a request from ``IP`` would: inside the middleware that tells services where it came from."""
    box = {}

    def view(request):
        box["result"] = run()
        return None

    AuditContextMiddleware(view)(RequestFactory().post("/console/settings/", REMOTE_ADDR=IP))
    return box["result"]


@dataclass(frozen=True)
class Case:
    label: str
    path: str
    run: Callable[[object], list[tuple[str, str | None]]]  # (admin) -> expected (operation, a field that changed)


CASES: list[Case] = []


def case(label: str, path: str):
    def register(run):
        CASES.append(Case(label, path, run))
        return run
    return register


# Services: the console's settings pages and the API call these.

@case("core.siteconfiguration", "service")
def _branding(admin):
    from atende.portal.services import branding_update
    branding_update(actor=Actor.for_user(admin), name="Acme Help")
    return [(UPDATED, "name")]


@case("accounts.team", "service")
def _team_assignment(admin):
    from atende.automation.services.assignment import team_set_assignment
    team = TeamFactory()
    team_set_assignment(team=team, strategy="round_robin", reassign_when_offline=True, actor=Actor.for_user(admin))
    return [(UPDATED, "assignment_strategy")]


@case("signin.securitypolicy", "service")
def _security_policy(admin):
    from atende.signin.services.policy import security_policy_update
    security_policy_update(actor=Actor.for_user(admin), session_idle_minutes=45)
    return [(UPDATED, "session_idle_minutes")]


@case("signin.ssoprovider", "service")
def _sso_provider(admin):
    from atende.signin.services.policy import sso_provider_delete, sso_provider_save
    actor = Actor.for_user(admin)
    provider = sso_provider_save(actor=actor, kind="oidc", name="Okta", slug="okta", issuer="https://idp.example",
                                 client_id="atende", client_secret="s3cret-value")
    sso_provider_save(actor=actor, provider=provider, kind="oidc", name="Okta staff", slug="okta",
                      issuer="https://idp.example", client_id="atende")
    sso_provider_delete(actor=actor, provider=provider)
    return [("created", "client_id"), (UPDATED, "name"), ("deleted", "issuer")]


def _week():
    return [(d, 9 * 60, 17 * 60) for d in range(5)]


@case("sla.businesscalendar", "service")
def _calendar(admin):
    from atende.sla.services.definitions import calendar_delete, calendar_save
    calendar = calendar_save(user=admin, name="Lisbon", time_zone="Europe/Lisbon", hours=_week())
    calendar_save(user=admin, calendar=calendar, name="Lisbon", time_zone="Europe/Lisbon", hours=_week(),
                  holidays=[(dt.date(2026, 12, 25), True, "Natal")])
    calendar_delete(user=admin, calendar=calendar)
    return [("created", "name"), (UPDATED, "holidays"), ("deleted", "name")]


@case("sla.slapolicy", "service")
def _sla_policy(admin):
    from atende.sla.services.definitions import policy_delete, policy_save
    policy = policy_save(user=admin, name="Gold", first_reply_minutes=60)
    policy_save(user=admin, policy=policy, name="Gold", first_reply_minutes=30)
    policy_delete(user=admin, policy=policy)
    return [("created", "first_reply_minutes"), (UPDATED, "first_reply_minutes"), ("deleted", "name")]


def _reorder(model_label: str, make: Callable[[str], object]):
    def run(admin):
        from atende.rules.services import rule_move
        make("First")
        second = make("Second")
        AuditEntry.objects.all().delete()  # the set-up rows are not what is tested here
        rule_move(rule=second, direction="up", user=admin)
        return [("reordered", "order")]
    return run


def _policy(name):
    from atende.sla.services.definitions import policy_save
    return policy_save(name=name, first_reply_minutes=60)


SET_HIGH = [{"type": "set_priority", "value": "high"}]
RULE_EXTRA = {"routing": {}, "trigger": {"events": ["created"]}, "time_rule": {"anchor": "created_at", "hours": 4}}


def _rule(kind):
    from atende.automation.services.definitions import rule_save
    return lambda name: rule_save(kind=kind, name=name, conditions={}, actions=SET_HIGH, **RULE_EXTRA[kind])


def _rule_case(kind):
    def run(admin):
        from atende.automation.services.definitions import rule_delete, rule_save
        rule = rule_save(kind=kind, user=admin, name="Escalate", conditions={}, actions=SET_HIGH, **RULE_EXTRA[kind])
        rule_save(kind=kind, user=admin, rule=rule, name="Escalate", conditions={}, actions=SET_HIGH,
                  is_active=False, **RULE_EXTRA[kind])
        rule_delete(rule=rule, user=admin)
        return [("created", "actions"), (UPDATED, "is_active"), ("deleted", "name")]
    return run


def _macro(name):
    from atende.automation.services.definitions import macro_save
    return macro_save(user=AdminFactory(), name=name, reply_text="Hello")


for _kind, _label in (("routing", "automation.routingrule"), ("trigger", "automation.trigger"),
                      ("time_rule", "automation.timerule")):
    case(_label, "service")(_rule_case(_kind))
    case(_label, "reorder")(_reorder(_label, _rule(_kind)))
case("sla.slapolicy", "reorder")(_reorder("sla.slapolicy", _policy))
case("automation.macro", "reorder")(_reorder("automation.macro", _macro))


@case("automation.macro", "service")
def _macro_case(admin):
    from atende.automation.services.definitions import macro_delete, macro_save
    macro = macro_save(user=admin, name="Needs info", actions=[{"type": "set_status", "value": "pending"}],
                       reply_text="Could you send a screenshot?")
    macro_save(user=admin, macro=macro, name="Needs info", actions=[{"type": "set_status", "value": "pending"}],
               reply_text="Could you send the invoice number?")
    macro_delete(user=admin, macro=macro)
    return [("created", "reply_text"), (UPDATED, "reply_text"), ("deleted", "name")]


@case("automation.cannedreply", "service")
def _canned(admin):
    from atende.automation.services.definitions import canned_reply_delete, canned_reply_save
    canned = canned_reply_save(user=admin, title="Refunds", body="Five working days.")
    canned_reply_save(user=admin, canned=canned, title="Refunds", body="Three working days.", language="en")
    canned_reply_delete(user=admin, canned=canned)
    return [("created", "body"), (UPDATED, "body"), ("deleted", "title")]


@case("reports.reportschedule", "service")
def _schedule(admin):
    from atende.reports.services.schedules import report_schedule_delete, report_schedule_save
    schedule = report_schedule_save(actor=admin, name="Weekly", recipients=["boss@acme.example"], frequency="weekly")
    report_schedule_save(actor=admin, schedule=schedule, name="Weekly", recipients=["boss@acme.example"],
                         frequency="daily")
    report_schedule_delete(actor=admin, schedule=schedule)
    return [("created", "recipients"), (UPDATED, "frequency"), ("deleted", "name")]


@case("integrations.webhooksubscription", "service")
def _webhook(admin):
    from atende.integrations.services import (
        webhook_subscription_create,
        webhook_subscription_delete,
        webhook_subscription_update,
    )
    actor = Actor.for_user(admin)
    hook = webhook_subscription_create(actor=actor, name="CRM", url="https://crm.example/hook", event_types=["*"])
    webhook_subscription_update(actor=actor, subscription=hook, changes={"url": "https://crm.example/v2"})
    webhook_subscription_delete(actor=actor, subscription=hook)
    return [("created", "url"), (UPDATED, "url"), ("deleted", "url")]


@case("triage.fieldsetting", "service")
def _triage_setting(admin):
    from atende.triage.services import triage_field_setting_save
    actor = Actor.for_user(admin)
    triage_field_setting_save(field="team", auto_apply=True, threshold=0.9, actor=actor)
    triage_field_setting_save(field="team", auto_apply=True, threshold=0.8, actor=actor)
    return [("created", "auto_apply"), (UPDATED, "threshold")]


@case("triage.predictablefield", "service")
def _predictable(admin):
    from atende.triage.services import triage_predictable_fields_set
    actor = Actor.for_user(admin)
    field = CustomFieldFactory(kind=FieldKind.DROPDOWN, choices=["a", "b"])
    triage_predictable_fields_set(custom_fields=[field], actor=actor)
    triage_predictable_fields_set(custom_fields=[], actor=actor)
    return [("created", "custom_field"), ("deleted", "custom_field")]


@case("chat.widget", "service")
def _widget(admin):
    from atende.chat.services.widgets import widget_save
    actor = Actor.for_user(admin)
    widget = widget_save(actor=actor, name="Site", team=TeamFactory())
    widget_save(actor=actor, widget=widget, greeting="Olá!")
    return [("created", "name"), (UPDATED, "greeting")]


@case("chat.chatagentsetting", "service")
def _capacity(admin):
    from atende.chat.services.agents import chat_capacity_set
    agent = AgentFactory()
    chat_capacity_set(actor=Actor.for_user(admin), agent=agent, max_chats=3)
    chat_capacity_set(actor=Actor.for_user(admin), agent=agent, max_chats=5)
    return [("created", "max_chats"), (UPDATED, "max_chats")]


@case("api.apitoken", "service")
def _token(admin):
    from atende.api.services import api_token_create, api_token_revoke
    token, _secret = api_token_create(actor=Actor.for_user(admin), user=AgentFactory(), name="CI", scope="read")
    api_token_revoke(actor=Actor.for_user(admin), token=token)
    return [("api_token_created", None), ("api_token_revoked", None)]


# The Django admin: each settings model's ModelAdmin, through the methods its add, change and delete views call.

def _admin_build(label: str):
    """A new unsaved row for the admin's "add" (None for a one-row settings model)."""
    from atende.tickets.models import Category
    builders = {
        "accounts.team": lambda m: m(name="Billing", slug="billing"),
        "tickets.category": lambda m: m(name="Invoices"),
        "tickets.tag": lambda m: m(name="vip"),
        "tickets.customfield": lambda m: m(key="plan", label="Plan", kind=FieldKind.TEXT),
        "tickets.ticketform": lambda m: m(name="Bug report", category=Category.objects.create(name="Bugs")),
        "email_channel.mailbox": lambda m: m(name="Support", address="help@acme.example", password="hunter22"),
        "email_channel.senderrule": lambda m: m(kind="block", pattern="spam.example"),
        "email_channel.notificationtemplate": lambda m: m.objects.filter(kind="acknowledgement").delete() and m(kind="acknowledgement", language="en", subject="Got it",
                                                          body="We received {{ticket.number}}."),
        "integrations.webhooksubscription": lambda m: m(name="CRM", url="https://crm.example/hook", secret="x" * 32),
        "triage.predictablefield": lambda m: m(custom_field=CustomFieldFactory(kind=FieldKind.DROPDOWN,
                                                                             choices=["a"])),
        "chat.chatagentsetting": lambda m: m(agent=AgentFactory(), max_chats=2),
        "messaging.whatsapptemplate": lambda m: m(name="order_update"),
    }
    model = apps.get_model(label)
    return builders[label](model) if label in builders else None


def _existing(label: str, model):
    """The row an admin edits when the model cannot be added here (one-row settings, widgets, tokens)."""
    if hasattr(model, "load"):
        return model.load()
    if label == "chat.widget":
        from atende.chat.services.widgets import widget_save
        return widget_save(actor=Actor.for_user(AdminFactory()), name="Site", team=TeamFactory())
    if label == "api.apitoken":
        from atende.api.services import api_token_create
        return api_token_create(actor=Actor.for_user(AdminFactory()), user=AgentFactory(), name="CI")[0]
    raise AssertionError(f"{label}: give the matrix a way to build a row")


def _editable_field(model_admin, model, obj, request) -> str | None:
    readonly = set(model_admin.get_readonly_fields(request, obj))
    for field in model._meta.concrete_fields:
        if field.name in readonly or not field.editable or field.primary_key or field.name.endswith("_at"):
            continue
        if field.get_internal_type() in ("CharField", "TextField", "SlugField") and not field.choices \
                and "color" not in field.name and "email" not in field.name and "address" not in field.name:
            return field.name
        if field.get_internal_type() in ("BooleanField", "PositiveIntegerField", "PositiveSmallIntegerField",
                                         "IntegerField"):
            return field.name
    return None


def _change(obj, name: str) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool):
        setattr(obj, name, not value)
    elif isinstance(value, int):
        setattr(obj, name, value + 1)
    else:
        setattr(obj, name, (value or "") + "-changed")


def _admin_case(label: str):
    def run(admin_user):
        model = apps.get_model(label)
        model_admin = django_admin.site._registry[model]
        request = RequestFactory().post("/admin/", REMOTE_ADDR=IP)
        request.user = admin_user
        expected = []
        obj = _admin_build(label)
        if obj is not None and model_admin.has_add_permission(request):
            model_admin.save_model(request, obj, None, False)
            expected.append(("created", None))
        else:
            obj = _existing(label, model)
            AuditEntry.objects.filter(target_type=label).delete()  # set-up rows are not what is tested
        name = _editable_field(model_admin, model, obj, request)
        if name is not None and model_admin.has_change_permission(request, obj):
            _change(obj, name)
            model_admin.save_model(request, obj, None, True)
            expected.append((UPDATED, name))
        if model_admin.has_delete_permission(request, obj):
            model_admin.delete_model(request, obj)
            expected.append(("deleted", None))
        assert expected, f"{label}: the admin neither adds, changes nor deletes it; drop 'admin' from its paths"
        return expected
    return run


for _label, _paths in SETTINGS_MODELS.items():
    if "admin" in _paths:
        case(_label, "admin")(_admin_case(_label))


def _target_type(label: str) -> str:
    return "branding" if label == "core.siteconfiguration" else label


@pytest.mark.parametrize("case", CASES, ids=[f"{c.label}-{c.path}" for c in CASES])
def test_each_settings_write_leaves_an_entry_with_actor_ip_and_what_changed(db, case):
    admin = AdminFactory(email="matrix-admin@atende.test")
    expected = from_ip(lambda: case.run(admin))
    entries = list(AuditEntry.objects.filter(target_type=_target_type(case.label)).order_by("id"))
    operations = [e.data.get("operation", UPDATED) if e.action in ("settings_changed", "security_policy_changed",
                                                                   "sso_provider_changed") else e.action
                  for e in entries]
    assert operations == [op for op, _field in expected], [(e.action, e.data, e.changes) for e in entries]
    for entry, (operation, field) in zip(entries, expected, strict=True):
        assert entry.actor == admin and entry.actor_label == admin.email, entry
        assert entry.ip == IP and entry.created_at is not None
        assert entry.target_id and entry.target_label
        assert entry.changes or entry.data.get("scope") or entry.data.get("token") or operation.startswith("api_")
        if field is not None:
            assert field in entry.changes, (field, entry.changes)
            if operation == UPDATED or operation == "reordered":
                old, new = entry.changes[field]
                assert old != new
        if operation == "created":
            assert all(old is None for old, _new in entry.changes.values() if old != "[hidden]")
        if operation == "deleted":
            assert all(new is None for _old, new in entry.changes.values() if new != "[hidden]")


def test_every_model_is_classified():
    labels = {m._meta.label_lower for m in apps.get_models() if m.__module__.startswith("atende.")}
    both = set(SETTINGS_MODELS) & set(NOT_SETTINGS)
    assert not both, f"in both lists of atende/audit/registry.py: {sorted(both)}"
    missing = labels - set(SETTINGS_MODELS) - set(NOT_SETTINGS)
    assert not missing, f"place these models in atende/audit/registry.py: {sorted(missing)}"
    assert set(SETTINGS_MODELS) | set(NOT_SETTINGS) <= labels, "registry names a model that does not exist"


def test_every_settings_write_path_is_exercised():
    wanted = {(label, path) for label, paths in SETTINGS_MODELS.items() for path in paths}
    assert {(c.label, c.path) for c in CASES} == wanted


def test_a_settings_model_editable_in_the_django_admin_records_its_changes(db, rf):
    request = rf.get("/admin/")
    request.user = AdminFactory.build(is_superuser=True)
    for label in SETTINGS_MODELS:
        model_admin = django_admin.site._registry.get(apps.get_model(label))
        if model_admin is None:
            continue
        writable = (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
                    or model_admin.has_delete_permission(request))
        if writable:
            assert isinstance(model_admin, AuditedAdmin), f"{label}: make its ModelAdmin an AuditedAdmin"
            assert "admin" in SETTINGS_MODELS[label], f"{label}: list 'admin' among its write paths"

"""Settings pages for routing rules, triggers and time rules: list, create, edit, reorder, delete, preview."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import admin_required
from atende.automation import selectors
from atende.automation.forms import RoutingRuleForm, TimeRuleForm, TriggerForm
from atende.automation.models import RoutingRule, TimeRule, Trigger
from atende.automation.services.definitions import rule_delete, rule_save
from atende.automation.services.time_rules import time_rule_due_at
from atende.rules.actions import describe
from atende.rules.builder import rule_builder_catalogue
from atende.rules.pages import preview_page, reference, reorder, settings_form

KINDS = {
    "routing": {"model": RoutingRule, "form": RoutingRuleForm, "title": _("Routing rules"),
                "single": _("routing rule"), "extra": ["stop"],
                "help": _("Applied in order to every new ticket; the first matching rule that stops ends the walk. "
                          "Then the team's assignment strategy picks an agent.")},
    "triggers": {"model": Trigger, "form": TriggerForm, "title": _("Triggers"), "single": _("trigger"),
                 "extra": ["events"], "service_kind": "trigger",
                 "help": _("Run in order on ticket events. A trigger fires at most once per event and never on "
                           "changes it caused itself.")},
    "time-rules": {"model": TimeRule, "form": TimeRuleForm, "title": _("Time rules"), "single": _("time rule"),
                   "extra": ["anchor", "hours", "business_hours"], "service_kind": "time_rule",
                   "help": _("Act when a ticket has spent some hours since a moment (created, pending since, "
                             "solved…). Checked every minute; each rule acts once per ticket and occurrence.")},
}


def _kind(kind: str) -> dict:
    if kind not in KINDS:
        raise Http404
    return {**KINDS[kind], "slug": kind, "service_kind": KINDS[kind].get("service_kind", kind)}


@admin_required
def rule_list(request, kind: str):
    cfg = _kind(kind)
    rules = selectors.rule_list(cfg["model"])
    return render(request, "automation/rule_list.html", {"cfg": cfg, "rules": [
        (rule, [describe(a) for a in rule.actions]) for rule in rules]})


@admin_required
def rule_edit(request, kind: str, rule_id: int | None = None):
    cfg = _kind(kind)
    rule = get_object_or_404(cfg["model"], pk=rule_id) if rule_id else None
    initial = {"is_active": True}
    if rule is not None:
        initial = {f: getattr(rule, f) for f in ("name", "description", "is_active", "conditions", "actions",
                                                 *cfg["extra"])}

    def save(data):
        return rule_save(kind=cfg["service_kind"], user=request.user, rule=rule, name=data["name"],
                         description=data["description"], is_active=data["is_active"],
                         conditions=data["conditions"], actions=data["actions"], **{k: data[k] for k in cfg["extra"]})

    return settings_form(request, form_class=cfg["form"], initial=initial, save=save,
                         success_url=reverse("automation:rules", kwargs={"kind": kind}),
                         template="automation/rule_form.html", context={"cfg": cfg, "rule": rule, **reference(),
                                                                   "rule_builder": rule_builder_catalogue(
                                                                       context=cfg["service_kind"])})


@admin_required
@require_POST
def rule_remove(request, kind: str, rule_id: int):
    cfg = _kind(kind)
    rule = get_object_or_404(cfg["model"], pk=rule_id)
    rule_delete(rule=rule, user=request.user)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": rule.name})
    return redirect("automation:rules", kind=kind)


@admin_required
@require_POST
def rule_reorder(request, kind: str, rule_id: int):
    cfg = _kind(kind)
    return reorder(request, rule=get_object_or_404(cfg["model"], pk=rule_id),
                   success_url=reverse("automation:rules", kwargs={"kind": kind}))


@admin_required
def rule_preview(request, kind: str, rule_id: int):
    """"Test this rule against ticket #N": each condition with the ticket's actual value, and the actions."""
    cfg = _kind(kind)
    rule = get_object_or_404(cfg["model"], pk=rule_id)

    def due_time(ticket) -> dict:
        if not isinstance(rule, TimeRule):
            return {}
        anchor = getattr(ticket, rule.anchor)
        return {"anchor": anchor, "due_at": time_rule_due_at(rule, ticket, anchor) if anchor else None}

    return preview_page(request, subject=rule, conditions=rule.conditions, actions=rule.actions, more=due_time,
                        template="automation/rule_preview.html", context={"cfg": cfg, "rule": rule})

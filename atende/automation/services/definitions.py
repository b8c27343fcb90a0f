"""Saving rule definitions: every condition and action is validated here, so a bad rule never reaches the engine."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max

from atende.audit.services import audit_settings_change, audit_settings_deleted, audit_settings_saved, model_snapshot
from atende.automation.choices import MessageVisibility, TimeAnchor, TriggerEvent
from atende.automation.models import CannedReply, Macro, RoutingRule, TimeRule, Trigger
from atende.automation.selectors import MACROS
from atende.core import generations
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.core.tasks import enqueue_on_commit
from atende.rules import actions as A
from atende.rules.conditions import validate_conditions
from atende.rules.placeholders import validate_placeholders
from atende.rules.services import rule_move

RULE_MODELS = {"routing": RoutingRule, "trigger": Trigger, "time_rule": TimeRule}
ACTION_CONTEXT = {"routing": A.ROUTING, "trigger": A.TRIGGER, "time_rule": A.TIME_RULE}


def _require_admin(actor_user) -> None:
    if actor_user is not None and not actor_user.is_admin:
        raise PermissionDenied("Only administrators manage automation rules.")


def _next_position(model) -> int:
    return (model.objects.aggregate(m=Max("position"))["m"] or 0) + 1


def _name(name: str) -> str:
    name = " ".join((name or "").split())[:120]
    if not name:
        raise ValidationError("A name is required.", code="name_required")
    return name


@transaction.atomic
def rule_save(*, kind: str, user=None, rule=None, name: str, conditions: Any = None, actions: Any = None,
              is_active: bool = True, description: str = "", **extra) -> RoutingRule | Trigger | TimeRule:
    """Create or update a routing rule, trigger or time rule after validating its whole definition."""
    _require_admin(user)
    model = RULE_MODELS[kind]
    before = model_snapshot(rule, exclude=("position",)) if rule is not None and rule.pk else {}
    rule = rule or model(position=_next_position(model))
    rule.name = _name(name)
    rule.description = description or ""
    rule.is_active = bool(is_active)
    rule.conditions = validate_conditions(conditions, allow_changes=kind == "trigger")
    rule.actions = A.validate_actions(actions, context=ACTION_CONTEXT[kind])
    if not rule.actions:
        raise ValidationError("Add at least one action.", code="actions_required")
    if kind == "routing":
        rule.stop = bool(extra.get("stop", True))
    elif kind == "trigger":
        events = extra.get("events") or []
        unknown = sorted(set(events) - set(TriggerEvent.values))
        if unknown:
            raise ValidationError(f"Unknown trigger events: {', '.join(unknown)}.", code="unknown_event")
        if not events:
            raise ValidationError("Choose at least one event the trigger runs on.", code="events_required")
        rule.events = [e for e in TriggerEvent.values if e in events]
    elif kind == "time_rule":
        if extra.get("anchor") not in TimeAnchor.values:
            raise ValidationError(f"Unknown time reference “{extra.get('anchor')}”.", code="unknown_anchor")
        try:
            hours = Decimal(str(extra.get("hours")))
        except InvalidOperation:
            raise ValidationError("Hours must be a number.", code="invalid_hours")
        if not hours.is_finite() or hours <= 0 or hours > 24 * 365:
            raise ValidationError("Hours must be more than 0 and at most a year.", code="invalid_hours")
        rule.anchor, rule.hours = extra["anchor"], hours
        rule.business_hours = bool(extra.get("business_hours", False))
    rule.full_clean()
    rule.save()
    generations.bump(model._meta.label_lower)  # the engine's process copies of the active rules
    audit_settings_saved(actor=user, target=rule, before=before, exclude=("position",))
    if kind == "time_rule":
        enqueue_on_commit("atende.automation.tasks.time_rule_backfill_task", rule.pk)
    return rule


@transaction.atomic
def rule_delete(*, rule, user=None) -> None:
    _require_admin(user)
    audit_settings_change(actor=user, target=rule, operation="deleted", before=model_snapshot(rule))
    rule.delete()
    generations.bump(type(rule)._meta.label_lower)


@transaction.atomic
def macro_save(*, user, macro: Macro | None = None, name: str, actions: Any = None, reply_text: str = "",
               reply_visibility: str = MessageVisibility.REPLY, shared: bool = True, is_active: bool = True) -> Macro:
    """Shared macros are for admins to manage; any agent keeps personal ones."""
    if not user.is_agent:
        raise PermissionDenied("Only agents have macros.")
    if shared and not user.is_admin:
        raise PermissionDenied("Only administrators create shared macros; make it personal instead.")
    if macro is not None and not macro_can_edit(user, macro):
        raise PermissionDenied("You cannot change this macro.")
    before = model_snapshot(macro, exclude=("position",)) if macro is not None and macro.pk else {}
    macro = macro or Macro(position=_next_position(Macro))
    macro.name = _name(name)
    macro.actions = A.validate_actions(actions, context=A.MACRO)
    macro.reply_text = validate_placeholders(reply_text or "", where="Reply text")
    if reply_visibility not in MessageVisibility.values:
        raise ValidationError("Choose a public reply or an internal note.", code="invalid_visibility")
    macro.reply_visibility = reply_visibility
    if not macro.actions and not macro.reply_text.strip():
        raise ValidationError("A macro needs at least one action or a reply text.", code="macro_empty")
    macro.owner = None if shared else (macro.owner or user)
    macro.is_active = bool(is_active)
    macro.full_clean()
    macro.save()
    audit_settings_saved(actor=user, target=macro, before=before, exclude=("position",))
    generations.bump(MACROS)
    return macro


def macro_can_edit(user, macro: Macro) -> bool:
    return user.is_admin or (macro.owner_id is not None and macro.owner_id == user.pk)


@transaction.atomic
def macro_delete(*, user, macro: Macro) -> None:
    if not macro_can_edit(user, macro):
        raise PermissionDenied("You cannot delete this macro.")
    audit_settings_deleted(actor=user, target=macro)
    macro.delete()
    generations.bump(MACROS)


@transaction.atomic
def macro_move(*, macro: Macro, direction: str, user=None) -> None:
    """The macros' ▲/▼ buttons: ``rule_move``, and the ticket pages' menus follow the new order."""
    rule_move(rule=macro, direction=direction, user=user)
    generations.bump(MACROS)


@transaction.atomic
def canned_reply_save(*, user, canned: CannedReply | None = None, title: str, body: str, language: str = "",
                      shared: bool = True) -> CannedReply:
    if not user.is_agent:
        raise PermissionDenied("Only agents have canned replies.")
    if shared and not user.is_admin:
        raise PermissionDenied("Only administrators create shared canned replies; make it personal instead.")
    if canned is not None and not (user.is_admin or canned.owner_id == user.pk):
        raise PermissionDenied("You cannot change this canned reply.")
    before = model_snapshot(canned, exclude=("position",)) if canned is not None and canned.pk else {}
    canned = canned or CannedReply(position=_next_position(CannedReply))
    canned.title = " ".join((title or "").split())[:150]
    if not canned.title:
        raise ValidationError("A title is required.", code="title_required")
    if not (body or "").strip():
        raise ValidationError("The text is required.", code="body_required")
    canned.body = validate_placeholders(body, where="Text")
    if language not in ("", "en", "pt-br"):
        raise ValidationError("Language must be empty, en or pt-br.", code="invalid_language")
    canned.language = language
    canned.owner = None if shared else (canned.owner or user)
    canned.full_clean()
    canned.save()
    audit_settings_saved(actor=user, target=canned, before=before, exclude=("position",))
    return canned


@transaction.atomic
def canned_reply_delete(*, user, canned: CannedReply) -> None:
    if not (user.is_admin or canned.owner_id == user.pk):
        raise PermissionDenied("You cannot delete this canned reply.")
    audit_settings_deleted(actor=user, target=canned)
    canned.delete()

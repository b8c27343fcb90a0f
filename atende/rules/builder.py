"""What the visual rule builder offers: every condition field with its operators and value control, every action
with its parameters, and the choices (teams, agents, categories, tags…) their pickers list.

The page embeds this as a JSON data block; the builder writes the same JSON the rule services validate, so the
services stay the only judge of what a rule may say."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from atende.rules.actions import ACTIONS, EMAIL_TARGETS
from atende.rules.fields import (
    CHANGE_OPS,
    FIELDS,
    LIST_VALUE_OPS,
    NO_VALUE_OPS,
    OP_LABELS,
    TAG_CHANGE_OPS,
    FieldDef,
    custom_field_def,
    ops_for,
)
from atende.tickets.choices import (
    ActorKind,
    Channel,
    Level,
    StatusCategory,
    TicketPriority,
    TicketStatus,
    TicketType,
)

CHOICE_LABELS = {"status": TicketStatus, "status_category": StatusCategory, "priority": TicketPriority,
                 "urgency": Level, "impact": Level, "type": TicketType, "channel": Channel, "actor_kind": ActorKind}
# Pickers list at most this many rows; a saved id beyond them still shows (as its number) and stays editable.
PICKER_LIMIT = 500

# type -> its parameters: (key, control, label). Controls: choice:<field>, ref:<ref>, tags, text, textarea,
# email_to, custom_key, custom_value.
ACTION_PARAMS: dict[str, list[tuple[str, str, object]]] = {
    "set_priority": [("value", "choice:priority", _("Priority"))],
    "raise_priority": [],
    "set_status": [("value", "choice:status", _("Status"))],
    "set_type": [("value", "choice:type", _("Type"))],
    "set_category": [("value", "ref:category", _("Category"))],
    "set_team": [("value", "ref:team", _("Team"))],
    "set_assignee": [("value", "ref:user", _("Agent"))],
    "assign_auto": [],
    "add_tags": [("value", "tags", _("Tags"))],
    "remove_tags": [("value", "tags", _("Tags"))],
    "set_custom_field": [("key", "custom_key", _("Field")), ("value", "custom_value", _("Value"))],
    "add_note": [("body", "textarea", _("Note"))],
    "reply": [("body", "textarea", _("Reply"))],
    "send_email": [("to", "email_to", _("To")), ("subject", "text", _("Subject")), ("body", "textarea", _("Text"))],
    "webhook": [("url", "text", _("URL")), ("secret", "text", _("Signing secret (optional)"))],
}

TEXTS = {
    "all": _("All of these conditions"), "any": _("Any of these conditions"),
    "add_condition": _("Add condition"), "add_action": _("Add action"), "remove": _("Remove"),
    "edit_json": _("Edit as JSON"), "edit_visual": _("Edit visually"),
    "unsupported": _("This rule uses something the visual editor cannot show; it is open as JSON."),
    "bad_json": _("The JSON is not valid; fix it or clear it before going back to the visual editor."),
    "field": _("Field"), "operator": _("Operator"), "value": _("Value"), "action": _("Action"),
    "choose": _("Choose…"), "unassign": _("Nobody (unassign)"), "comma": _("separate with commas"),
    "when": _("When a ticket"), "matches": _("matches"), "every_ticket": _("Every ticket"),
    "and": _("and"), "or": _("or"), "then": _("then"), "nothing": _("do nothing"),
    "summary": _("Summary"),
}


def _choice_options(field: FieldDef) -> list[list[str]]:
    labels = CHOICE_LABELS.get(field.name)
    if labels is None:
        return [[c, c] for c in field.choices]
    return [[c, str(labels(c).label)] for c in field.choices]


def _field_entry(field: FieldDef, *, allow_changes: bool) -> dict:
    return {"name": field.name, "label": str(field.label), "kind": field.kind, "ref": field.ref,
            "ops": list(ops_for(field, allow_changes=allow_changes)), "choices": _choice_options(field)}


def _refs() -> dict[str, list[list]]:
    from atende.accounts.models import Organization, Team, User
    from atende.tickets.models import Category

    agents = User.objects.filter(role__in=["admin", "agent"], is_active=True).order_by("name", "email")
    return {
        "team": [[t.pk, t.name] for t in Team.objects.order_by("name")[:PICKER_LIMIT]],
        "user": [[u.pk, u.display_name] for u in agents[:PICKER_LIMIT]],
        "organization": [[o.pk, o.name] for o in Organization.objects.order_by("name")[:PICKER_LIMIT]],
        "category": [[c.pk, str(c)] for c in Category.objects.filter(is_active=True).order_by("name")[:PICKER_LIMIT]],
    }


def rule_builder_catalogue(*, context: str, condition_fields: tuple[str, ...] | None = None) -> dict:
    """The builder's catalogue for a rule edited in ``context`` (routing, trigger, time_rule, macro, sla).

    ``condition_fields`` narrows the condition fields (SLA policies look at a few ticket attributes only)."""
    from atende.tickets.models import CustomField, Tag

    allow_changes = context == "trigger"
    fields = [_field_entry(f, allow_changes=allow_changes) for f in FIELDS.values()
              if condition_fields is None or f.name in condition_fields]
    custom = list(CustomField.objects.filter(is_active=True).order_by("position", "key"))
    if condition_fields is None:
        for cf in custom:
            field = custom_field_def(f"custom_fields.{cf.key}")
            entry = _field_entry(field, allow_changes=allow_changes)
            entry["label"] = cf.display_label()
            if cf.kind == "dropdown":
                entry["choices"] = [list(option) for option in cf.options()]
            fields.append(entry)
    actions = [{"type": kind, "label": str(label),
                "params": [{"key": k, "control": c, "label": str(lab)} for k, c, lab in ACTION_PARAMS[kind]]}
               for kind, (label, contexts) in ACTIONS.items() if context in contexts]
    return {
        "context": context,
        "fields": fields,
        "ops": {op: str(label) for op, label in OP_LABELS.items()},
        "no_value_ops": list(NO_VALUE_OPS),
        "list_value_ops": [*LIST_VALUE_OPS, *TAG_CHANGE_OPS],
        "change_ops": list(CHANGE_OPS),
        "actions": actions,
        "refs": _refs(),
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)[:PICKER_LIMIT]),
        "custom_fields": [{"key": cf.key, "label": cf.display_label(), "kind": cf.kind,
                           "choices": [list(o) for o in cf.options()]} for cf in custom],
        "choices": {name: [[c, str(choices(c).label)] for c in choices.values]
                    for name, choices in CHOICE_LABELS.items()},
        "email_targets": list(EMAIL_TARGETS),
        "texts": {k: str(v) for k, v in TEXTS.items()},
    }

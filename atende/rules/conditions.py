"""Conditions: ``{"all": [...], "any": [...]}``, each ``{"field", "op", "value"}``. Validated at save time with
readable messages; evaluated against a :class:`RuleContext` (with an explanation, for the rule preview)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from atende.accounts.models import Organization, Team, User
from atende.core.exceptions import ValidationError
from atende.rules.context import RuleContext
from atende.rules.fields import (
    CHANGE_OPS,
    CHOICE,
    FIELDS,
    LIST_VALUE_OPS,
    NO_VALUE_OPS,
    NUMBER,
    REF,
    TAGS,
    TEXT,
    FieldDef,
    field_def,
    fold,
    ops_for,
    words,
)
from atende.tickets.models import Category


def _ref_exists(ref: str, ids: list[int]) -> list[int]:
    model = {"team": Team, "user": User, "organization": Organization, "category": Category}[ref]
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return [i for i in ids if i not in found]


def _as_list(value: Any) -> list:
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def clean_value(field: FieldDef, op: str, value: Any, where: str) -> Any:
    """Normalise and check a condition's value; raise ValidationError naming the condition."""
    if op in NO_VALUE_OPS:
        return None
    is_list = op in LIST_VALUE_OPS or (field.kind == TAGS and op in ("changed_to", "changed_from"))
    values = _as_list(value) if is_list else [value]
    if not values or any(v in (None, "") for v in values):
        raise ValidationError(f"{where}: a value is required for “{field.name} {op}”.", code="rule_value_required")
    cleaned = []
    for v in values:
        if field.kind == CHOICE or field.rank:
            v = str(v)
            if v not in field.choices:
                raise ValidationError(f"{where}: “{v}” is not a valid {field.name}; expected one of "
                                      f"{', '.join(field.choices)}.", code="rule_bad_value")
        elif field.kind == REF:
            try:
                v = int(v)
            except (TypeError, ValueError):
                raise ValidationError(f"{where}: {field.name} needs an id number, not “{v}”.", code="rule_bad_value")
        elif field.kind == NUMBER:
            try:
                v = Decimal(str(v))
            except InvalidOperation:
                raise ValidationError(f"{where}: “{v}” is not a number.", code="rule_bad_value")
            v = int(v) if v == v.to_integral_value() else float(v)
        else:
            v = str(v).strip()
            if field.kind == TAGS:
                v = v.lower().replace(" ", "-")
        cleaned.append(v)
    if field.kind == REF:
        missing = _ref_exists(field.ref, cleaned)
        if missing:
            raise ValidationError(f"{where}: no {field.ref} with id {', '.join(map(str, missing))}.",
                                  code="rule_bad_value")
    return cleaned if is_list else cleaned[0]


def validate_conditions(conditions: Any, *, allow_changes: bool = False) -> dict[str, list[dict]]:
    """Return the normalised conditions or raise ValidationError with a message an admin can act on."""
    if conditions in (None, "", {}):
        return {"all": [], "any": []}
    if not isinstance(conditions, dict):
        raise ValidationError("Conditions must be an object with “all” and/or “any” lists.", code="rule_invalid")
    extra = set(conditions) - {"all", "any"}
    if extra:
        raise ValidationError(f"Conditions accept only “all” and “any”, not {', '.join(sorted(extra))}.",
                              code="rule_invalid")
    result: dict[str, list[dict]] = {"all": [], "any": []}
    for group in ("all", "any"):
        items = conditions.get(group) or []
        if not isinstance(items, list):
            raise ValidationError(f"“{group}” must be a list of conditions.", code="rule_invalid")
        for i, cond in enumerate(items, start=1):
            where = f"Condition {i} in “{group}”"
            if not isinstance(cond, dict) or "field" not in cond or "op" not in cond:
                raise ValidationError(f"{where} needs a “field” and an “op”.", code="rule_invalid")
            field = field_def(cond["field"])
            if field is None:
                known = ", ".join([*FIELDS, "custom_fields.<key>"])
                raise ValidationError(f"{where}: unknown field “{cond['field']}”. Known fields: {known}.",
                                      code="rule_unknown_field", details={"field": cond["field"]})
            allowed = ops_for(field, allow_changes=allow_changes)
            if cond["op"] not in allowed:
                hint = "" if allow_changes or cond["op"] not in CHANGE_OPS else " (change conditions work in triggers only)"
                raise ValidationError(f"{where}: “{cond['op']}” does not apply to {field.name}{hint}; use one of "
                                      f"{', '.join(allowed)}.", code="rule_unknown_op")
            result[group].append({"field": field.name, "op": cond["op"],
                                  "value": clean_value(field, cond["op"], cond.get("value"), where)})
    return result


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return fold(a if a is not None else "") == fold(b if b is not None else "")
    return a == b


def _test(field: FieldDef, op: str, value: Any, ctx: RuleContext) -> bool:
    if op in CHANGE_OPS or op in ("added", "removed"):
        return _test_change(field, op, value, ctx)
    current = ctx.value(field.name)
    if op == "is_set":
        return bool(current) if field.kind == TAGS else current not in (None, "")
    if op == "is_not_set":
        return not current if field.kind == TAGS else current in (None, "")
    if field.kind == TAGS:
        wanted = set(value)
        if op == "includes_any":
            return bool(current & wanted)
        if op == "includes_all":
            return wanted <= current
        return not (current & wanted)  # excludes
    if op == "is":
        return _eq(current, value)
    if op == "is_not":
        return not _eq(current, value)
    if op == "in":
        return any(_eq(current, v) for v in value)
    if op == "not_in":
        return not any(_eq(current, v) for v in value)
    if op in ("at_least", "at_most"):
        if current not in field.rank:
            return False
        diff = field.rank[current] - field.rank[value]
        return diff >= 0 if op == "at_least" else diff <= 0
    if field.kind == NUMBER:
        if current in (None, ""):
            return False
        current = float(current)
        return {"gt": current > value, "gte": current >= value, "lt": current < value, "lte": current <= value}[op]
    text, needle = fold(current or ""), fold(value)
    if op == "contains":
        return needle in text
    if op == "not_contains":
        return needle not in text
    if op == "starts_with":
        return text.startswith(needle)
    if op == "ends_with":
        return text.endswith(needle)
    present = set(words(text))
    wanted = set(words(value))
    if op == "contains_any_words":
        return bool(present & wanted)
    if op == "contains_all_words":
        return wanted <= present
    raise AssertionError(op)


def _test_change(field: FieldDef, op: str, value: Any, ctx: RuleContext) -> bool:
    changes = ctx.changes
    if op in ("added", "removed"):
        key = "tags+" if op == "added" else "tags-"
        return bool(changes.get(key, (None, set()))[1] & set(value))
    if field.name not in changes:
        return op == "not_changed"
    old, new = changes[field.name]
    if op == "changed":
        return True
    if op == "not_changed":
        return False
    target = new if op == "changed_to" else old
    if field.kind == TAGS:
        return set(value) <= set(target or ())
    return _eq(target, value)


def explain(conditions: dict[str, list[dict]], ctx: RuleContext) -> tuple[bool, list[dict]]:
    """(matches, [{group, field, op, value, actual, ok}]) — the rule preview shows this line by line."""
    lines = []
    results: dict[str, list[bool]] = {"all": [], "any": []}
    for group in ("all", "any"):
        for cond in conditions.get(group) or []:
            field = field_def(cond["field"])
            ok = field is not None and _test(field, cond["op"], cond.get("value"), ctx)
            results[group].append(ok)
            actual = ctx.value(field.name) if field is not None and cond["op"] not in CHANGE_OPS else \
                ctx.changes.get(cond["field"])
            if isinstance(actual, set):
                actual = sorted(actual)
            if isinstance(actual, str) and len(actual) > 120:
                actual = actual[:117] + "…"
            lines.append({**cond, "group": group, "actual": actual, "ok": ok})
    matched = all(results["all"]) and (not results["any"] or any(results["any"]))
    return matched, lines


def matches(conditions: dict[str, list[dict]], ctx: RuleContext, *,
            field_defs: dict[str, FieldDef | None] | None = None) -> bool:
    """``field_defs``: a dict kept by a caller that evaluates one rule against many tickets, so that custom
    field definitions (a query each) are looked up once rather than once per ticket."""
    def lookup(name: str) -> FieldDef | None:
        if field_defs is None:
            return field_def(name)
        if name not in field_defs:
            field_defs[name] = field_def(name)
        return field_defs[name]

    for cond in conditions.get("all") or []:
        field = lookup(cond["field"])
        if field is None or not _test(field, cond["op"], cond.get("value"), ctx):
            return False
    any_group = conditions.get("any") or []
    if not any_group:
        return True
    for cond in any_group:
        field = lookup(cond["field"])
        if field is not None and _test(field, cond["op"], cond.get("value"), ctx):
            return True
    return False


__all__ = ["CHOICE", "NUMBER", "REF", "TEXT", "explain", "matches", "validate_conditions"]

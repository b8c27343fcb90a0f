"""Custom field values, validated against their definitions (and a form's required fields)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atende.core.exceptions import ValidationError
from atende.core.memo import batch_cached
from atende.tickets.choices import FieldKind
from atende.tickets.models import CustomField, TicketForm


def _coerce(field: CustomField, value: Any) -> Any:
    if value in (None, ""):
        return None
    kind = field.kind
    if kind == FieldKind.TEXT:
        return str(value)[:5000]
    if kind == FieldKind.NUMBER:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("must be a number")
        if not number.is_finite():
            raise ValueError("must be a number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldKind.DATE:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)")
    if kind == FieldKind.DROPDOWN:
        allowed = [str(c) for c in field.choices]
        if str(value) not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return str(value)
    if kind == FieldKind.CHECKBOX:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "on", "yes"}:
            return True
        if text in {"0", "false", "off", "no"}:
            return False
        raise ValueError("must be true or false")
    raise ValueError("unknown field kind")


def active_custom_fields() -> list[CustomField]:
    """The active field definitions, read once per batch (``core.memo``) and afresh on every request."""
    return batch_cached("tickets.active_custom_fields", lambda: list(CustomField.objects.filter(is_active=True)))


def clean_custom_fields(values: dict[str, Any] | None, *, form: TicketForm | None = None, for_customer: bool = False,
                        current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge ``values`` into ``current`` after validation; raise one ValidationError listing every problem."""
    values = dict(values or {})
    if not values and form is None:
        return dict(current or {})  # nothing to check: most tickets (and every channel without a form) skip the read
    definitions = {f.key: f for f in active_custom_fields()}
    errors: dict[str, str] = {}
    cleaned = dict(current or {})
    for key, raw in values.items():
        field = definitions.get(key)
        if field is None or (for_customer and not field.customer_visible):
            errors[key] = "unknown field"
            continue
        try:
            coerced = _coerce(field, raw)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if coerced is None:
            cleaned.pop(key, None)
        else:
            cleaned[key] = coerced
    if form is not None:
        for form_field in form.form_fields.select_related("field"):
            if form_field.required and cleaned.get(form_field.field.key) in (None, "", False):
                errors.setdefault(form_field.field.key, "this field is required")
    if errors:
        summary = "; ".join(f"{definitions[k].label if k in definitions else k}: {v}" for k, v in errors.items())
        raise ValidationError(f"Invalid custom fields — {summary}", code="invalid_custom_fields", details=errors)
    return cleaned


def missing_fields_to_solve(custom_fields: dict[str, Any]) -> list[CustomField]:
    return [f for f in active_custom_fields() if f.required_to_solve and custom_fields.get(f.key) in (None, "", False)]

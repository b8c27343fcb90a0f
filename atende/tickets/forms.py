"""Form fields for custom field definitions, shared by the console's ticket panel and the portal's request form."""

from __future__ import annotations

from django import forms

from atende.tickets.choices import FieldKind
from atende.tickets.models import CustomField


def custom_form_field(field: CustomField, *, required: bool = False) -> forms.Field:
    """The input for one custom field, labelled in the active language; a dropdown offers its choices' labels and
    submits their stored values."""
    common = {"label": field.display_label(), "required": required, "help_text": field.help_text}
    if field.kind == FieldKind.NUMBER:
        return forms.DecimalField(**common)
    if field.kind == FieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if field.kind == FieldKind.DROPDOWN:
        return forms.ChoiceField(choices=[("", "—"), *field.options()], **common)
    if field.kind == FieldKind.CHECKBOX:
        return forms.BooleanField(**common)
    return forms.CharField(max_length=5000, **common)

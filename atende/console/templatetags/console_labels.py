"""``{{ ticket|label:"status" }}``: what ``ticket.get_status_display`` writes, from labels kept per process and
language (Django's ``get_FOO_display`` builds a dict of the field's choices on every call: the ticket page called
it nine times)."""

from __future__ import annotations

from django import template
from django.utils.encoding import force_str
from django.utils.translation import get_language

register = template.Library()

_LABELS: dict[tuple, dict] = {}


@register.filter
def label(obj, name: str):
    model = type(obj)
    key = (model, name, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {value: force_str(text, strings_only=True)
                                 for value, text in model._meta.get_field(name).flatchoices}
    value = getattr(obj, name)
    try:
        return labels[value]
    except (KeyError, TypeError):  # a value outside the choices (or unhashable): written as it is, as Django does
        return force_str(value, strings_only=True)

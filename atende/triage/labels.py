"""How predicted fields and values read on the pages, in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from atende.accounts.models import Team
from atende.tickets.choices import Level, TicketPriority
from atende.tickets.models import Category, CustomField
from atende.triage.selectors import CUSTOM_PREFIX

CHOICES = {"urgency": Level, "impact": Level, "priority": TicketPriority}


def field_label(field: str, custom: dict[str, CustomField]) -> str:
    if field.startswith(CUSTOM_PREFIX):
        definition = custom.get(field[len(CUSTOM_PREFIX):])
        return definition.display_label() if definition else field[len(CUSTOM_PREFIX):]
    return {"team": _("Team"), "category": _("Category"), "urgency": _("Urgency"), "impact": _("Impact"),
            "priority": _("Priority")}.get(field, field)


def value_label(field: str, value: str, custom: dict[str, CustomField]) -> str:
    if field == "team":
        return Team.objects.filter(pk=int(value)).values_list("name", flat=True).first() or _("(removed team)")
    if field == "category":
        category = Category.objects.filter(pk=int(value)).select_related("parent").first()
        return str(category) if category else _("(removed category)")
    if field in CHOICES:
        try:
            return str(CHOICES[field](value).label)
        except ValueError:
            return value
    definition = custom.get(field[len(CUSTOM_PREFIX):]) if field.startswith(CUSTOM_PREFIX) else None
    return definition.display_value(value) if definition else value

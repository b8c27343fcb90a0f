"""The help-desk-wide ticket rules (``TicketSettings``, one row): their one write path. Every process keeps a copy
of the row (``TicketSettings.load``, ``core.generations``); a change drops every copy once it commits (the admin,
the other writer, does the same: ``AuditedAdmin.outdates``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende.core import generations
from atende.core.exceptions import full_clean_or_raise
from atende.tickets.models import TICKET_SETTINGS, TicketSettings


@transaction.atomic
def ticket_settings_update(**fields: Any) -> TicketSettings:
    """Change some of the settings (field name → value), validated as the admin validates them."""
    unknown = set(fields) - {f.name for f in TicketSettings._meta.concrete_fields if not f.primary_key}
    if unknown:
        raise ValueError(f"not a ticket setting: {', '.join(sorted(unknown))}")
    config = TicketSettings.objects.select_for_update().filter(pk=1).first() or TicketSettings(pk=1)
    for name, value in fields.items():
        setattr(config, name, value)
    full_clean_or_raise(config)
    config.save()
    generations.bump(TICKET_SETTINGS)  # every process reads the row afresh once this commits
    return config

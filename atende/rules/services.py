"""Writes shared by every ordered rule list (routing rules, triggers, time rules, macros, SLA policies)."""

from __future__ import annotations

from django.db import transaction

from atende.audit.services import audit_settings_reordered
from atende.core import generations
from atende.core.exceptions import PermissionDenied


@transaction.atomic
def rule_move(*, rule, direction: str, user=None) -> None:
    """Swap ``rule`` with its neighbour (``up`` or ``down``); positions are renumbered 1..n first."""
    if user is not None and not user.is_admin:
        raise PermissionDenied("Only administrators manage automation rules.")
    model = type(rule)
    ordered = list(model.objects.select_for_update().order_by("position", "id"))
    before = [str(item) for item in ordered]
    index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    generations.bump(model._meta.label_lower)  # the process copies of the list (``sla.selectors.POLICIES``)
    audit_settings_reordered(actor=user, target=rule, before=before, after=[str(item) for item in ordered])

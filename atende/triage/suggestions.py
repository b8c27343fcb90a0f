"""Services for the suggestions on live tickets: predicting new tickets (set-wise), applying a suggestion
automatically above the field's threshold or on an agent's click, and recording an agent's correction.

Every change to a ticket goes through the tickets services; the events they record carry
``{"triage": {"model_version": N, "confidence": {field: c}}}`` so the history says which model set what."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from atende.accounts.models import Team
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, NotFound, ValidationError
from atende.tickets.choices import FieldKind, Level, MessageKind, TicketEventType, TicketPriority
from atende.tickets.models import Category, CustomField, Message, Ticket
from atende.tickets.services import ticket_update
from atende.triage.learning.text import MAX_FIELD_CHARS
from atende.triage.models import AppliedBy, FieldSetting, Prediction
from atende.triage.predictions import loaded_model, loaded_model_version, predict
from atende.triage.selectors import CUSTOM_PREFIX, current_value

logger = logging.getLogger(__name__)

CHOICE_FIELDS = {"urgency": Level, "impact": Level, "priority": TicketPriority}
# Events whose data names the fields an agent changed (the history's "new" values, as the ticket stores them).
CORRECTION_EVENTS = (TicketEventType.FIELDS_CHANGED, TicketEventType.TEAM_CHANGED, TicketEventType.PRIORITY_CHANGED)


def _field_name(key: str) -> str:
    """``predict()`` names custom fields ``custom_fields.<key>``; they are stored as ``custom:<key>``."""
    return CUSTOM_PREFIX + key.split(".", 1)[1] if key.startswith("custom_fields.") else key


class _Valid:
    """What a suggestion may still be applied to: active teams and categories, known choices and options."""

    def __init__(self):
        self.teams = set(Team.objects.values_list("pk", flat=True))
        self.categories = set(Category.objects.filter(is_active=True).values_list("pk", flat=True))
        self.options = {f.key: {str(c) for c in (f.choices or [])}
                        for f in CustomField.objects.filter(is_active=True, kind=FieldKind.DROPDOWN)}

    def __call__(self, field: str, value: str) -> bool:
        if field == "team":
            return value.isdigit() and int(value) in self.teams
        if field == "category":
            return value.isdigit() and int(value) in self.categories
        if field in CHOICE_FIELDS:
            return value in CHOICE_FIELDS[field].values
        if field.startswith(CUSTOM_PREFIX):
            return value in self.options.get(field[len(CUSTOM_PREFIX):], set())
        return False


def _first_messages(ticket_ids: list[int]) -> dict[int, str]:
    bodies: dict[int, str] = {}
    for ticket_id, body in (Message.objects.filter(ticket_id__in=ticket_ids, kind=MessageKind.REPLY)
                            .order_by("ticket_id", "created_at", "id").values_list("ticket_id", "body_text")):
        bodies.setdefault(ticket_id, (body or "")[:MAX_FIELD_CHARS])
    return bodies


def _changes_for(ticket: Ticket, suggestions: list[Prediction]) -> dict[str, Any]:
    """The ``ticket_update`` changes that apply ``suggestions``: only to fields still empty (team, category,
    custom fields), and urgency, impact or priority only while the priority was not set by hand."""
    changes: dict[str, Any] = {}
    custom: dict[str, str] = {}
    for p in suggestions:
        if p.field == "team" and ticket.team_id is None:
            changes["team"] = Team.objects.get(pk=int(p.value))
        elif p.field == "category" and ticket.category_id is None:
            changes["category"] = Category.objects.get(pk=int(p.value))
        elif p.field in CHOICE_FIELDS and not ticket.priority_manual and current_value(ticket, p.field) != p.value:
            changes[p.field] = p.value
        elif p.field.startswith(CUSTOM_PREFIX) and current_value(ticket, p.field) == "":
            custom[p.field[len(CUSTOM_PREFIX):]] = p.value
    if custom:
        changes["custom_fields"] = custom
    return changes


def _apply(*, ticket: Ticket, suggestions: list[Prediction], actor: Actor, applied_by: str) -> list[Prediction]:
    """Apply what can be applied, in one ``ticket_update``; returns the suggestions applied."""
    changes = _changes_for(ticket, suggestions)
    if not changes:
        return []
    applied = [p for p in suggestions if p.field in changes or (
        p.field.startswith(CUSTOM_PREFIX) and p.field[len(CUSTOM_PREFIX):] in changes.get("custom_fields", {}))]
    event_data = {"triage": {"model_version": applied[0].model_version,
                             "confidence": {p.field: round(p.confidence, 2) for p in applied}}}
    ticket_update(ticket=ticket, actor=actor, changes=changes, reason="triage", event_data=event_data)
    now = timezone.now()
    for p in applied:
        p.applied_by, p.applied_at = applied_by, now
    Prediction.objects.bulk_update(applied, ["applied_by", "applied_at"])
    return applied


def triage_predict_for_tickets(*, ticket_ids: Iterable[int], actor: Actor) -> dict[int, list[Prediction]]:
    """Predict the fields of each new ticket in ``ticket_ids``, store the suggestions (value, confidence, model
    version) and apply, through the tickets services, those at or above their field's auto-apply threshold.

    Idempotent: a ticket that already has suggestions is skipped. Tickets closed, spam or merged meanwhile are
    skipped. Each ticket is its own transaction, so one failing (a stale value, a removed team) neither stops
    the others nor loses their suggestions; the failure is logged. Without a usable model nothing happens.
    Returns the stored suggestions by ticket id."""
    ids = sorted(set(int(i) for i in ticket_ids))
    if not ids or loaded_model() is None:
        return {}
    version = loaded_model_version()
    done = set(Prediction.objects.filter(ticket_id__in=ids).values_list("ticket_id", flat=True).distinct())
    tickets = list(Ticket.objects.filter(pk__in=[i for i in ids if i not in done], is_spam=False,
                                         merged_into__isnull=True).exclude(status="closed"))
    if not tickets:
        return {}
    bodies = _first_messages([t.pk for t in tickets])
    valid = _Valid()
    auto = {s.field: s.threshold for s in FieldSetting.objects.filter(auto_apply=True)}
    stored: dict[int, list[Prediction]] = {}
    for ticket in tickets:
        suggestions = predict({"subject": ticket.subject, "body": bodies.get(ticket.pk, ""),
                               "channel": ticket.channel, "organization_id": ticket.organization_id,
                               "requester_id": ticket.requester_id})
        rows = [Prediction(ticket=ticket, field=_field_name(key), value=str(value), confidence=float(confidence),
                           model_version=version)
                for key, (value, confidence) in suggestions.items()]
        rows = [p for p in rows if valid(p.field, p.value)]
        if not rows:
            continue
        try:
            with transaction.atomic():
                Prediction.objects.bulk_create(rows)
                to_apply = [p for p in rows if p.field in auto and p.confidence >= auto[p.field]]
                if to_apply:
                    _apply(ticket=ticket, suggestions=to_apply, actor=actor, applied_by=AppliedBy.AUTOMATION)
        except IntegrityError:
            continue  # predicted meanwhile by another worker
        except Exception:
            logger.exception("triage: could not store or apply suggestions for ticket %s", ticket.pk)
            continue
        stored[ticket.pk] = rows
    return stored


@transaction.atomic
def triage_apply_suggestion(*, ticket: Ticket, field: str, actor: Actor) -> Prediction:
    """An agent's one-click apply of the suggestion for ``field``. Raises NotFound without one, Conflict when
    the field already has that value, ValidationError when the value no longer exists (a removed team)."""
    prediction = Prediction.objects.select_for_update().filter(ticket=ticket, field=field).first()
    if prediction is None:
        raise NotFound("No suggestion for this field.")
    ticket = Ticket.objects.get(pk=ticket.pk)
    if current_value(ticket, field) == prediction.value:
        raise Conflict("The ticket already has this value.", code="already_applied")
    if not _Valid()(field, prediction.value):
        raise ValidationError("The suggested value no longer exists.", code="suggestion_gone")
    if field == "team":
        changes: dict[str, Any] = {"team": Team.objects.get(pk=int(prediction.value))}
    elif field == "category":
        changes = {"category": Category.objects.get(pk=int(prediction.value))}
    elif field.startswith(CUSTOM_PREFIX):
        changes = {"custom_fields": {field[len(CUSTOM_PREFIX):]: prediction.value}}
    else:
        changes = {field: prediction.value}
    event_data = {"triage": {"model_version": prediction.model_version,
                             "confidence": {field: round(prediction.confidence, 2)}}}
    ticket_update(ticket=ticket, actor=actor, changes=changes, reason="triage", event_data=event_data)
    prediction.applied_by, prediction.applied_at = AppliedBy.AGENT, timezone.now()
    prediction.overridden_value, prediction.overridden_by, prediction.overridden_at = "", None, None
    prediction.save(update_fields=["applied_by", "applied_at", "overridden_value", "overridden_by", "overridden_at"])
    return prediction


def _changed_fields(payload: Mapping[str, Any]) -> dict[str, str]:
    """The predicted fields an event changed, with their new values as a prediction stores them."""
    data = payload.get("data") or {}
    kind = payload.get("type")
    if kind == TicketEventType.TEAM_CHANGED:
        return {"team": str((data.get("new") or {}).get("id") or "")}
    if kind == TicketEventType.PRIORITY_CHANGED:
        return {"priority": str(data.get("new") or "")}
    new = data.get("new") or {}
    out = {}
    for name, value in new.items():
        if name == "category":
            out["category"] = str((value or {}).get("id") or "")
        elif name in ("urgency", "impact"):
            out[name] = str(value or "")
        elif name == "custom_fields" and isinstance(value, dict):
            old = (data.get("old") or {}).get("custom_fields") or {}
            out.update({CUSTOM_PREFIX + k: "" if v in (None, "") else str(v)
                        for k, v in value.items() if old.get(k) != v})
    return out


@transaction.atomic
def triage_record_corrections(*, events: Iterable[Mapping[str, Any]], actor: Actor) -> int:
    """Record, from committed ticket events, each agent's change of a field away from its suggestion (the value
    set instead, who, when). Changes by automation or the system are not corrections, nor is setting the
    suggested value. Returns how many suggestions were marked as corrected."""
    marked = 0
    for payload in events:
        if payload.get("type") not in CORRECTION_EVENTS or payload.get("actor_kind") != "agent":
            continue
        changed = _changed_fields(payload)
        if not changed:
            continue
        for prediction in Prediction.objects.select_for_update().filter(ticket_id=payload.get("ticket_id"),
                                                                         field__in=list(changed)):
            value = changed[prediction.field]
            if value == prediction.value:
                continue
            prediction.overridden_value = value
            prediction.overridden_by_id = payload.get("actor_user_id")
            prediction.overridden_at = timezone.now()
            prediction.save(update_fields=["overridden_value", "overridden_by", "overridden_at"])
            marked += 1
    return marked

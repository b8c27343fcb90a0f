"""Writes for triage: training a model from the desk's history and making it the active one."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.audit.services import audit_settings_deleted, audit_settings_saved, model_snapshot
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.tickets.choices import FieldKind
from atende.tickets.models import CustomField, Ticket
from atende.triage.learning.desk_model import NoSignal, NotEnoughData, save, train_desk_model
from atende.triage.models import FieldSetting, PredictableField, TriageModel
from atende.triage.predictions import forget_loaded_model, model_path
from atende.triage.selectors import (
    BASE_FIELDS,
    CUSTOM_PREFIX,
    LEARNED_STATUSES,
    learnable_ticket_count,
    predictable_custom_field_keys,
    training_history,
)

MIN_TRAINING_TICKETS = 100  # default of settings.TRIAGE_MIN_TICKETS: fewer teach a model nothing to trust

Progress = Callable[[str, int, int], None]


class NotEnoughHistory(ValidationError):
    """Too few solved or closed tickets to learn from."""

    code = "not_enough_history"


class NothingToLearn(ValidationError):
    """The history is large enough, but no field can be told from the text better than by its most common value."""

    code = "nothing_to_learn"


def min_training_tickets() -> int:
    return getattr(settings, "TRIAGE_MIN_TICKETS", MIN_TRAINING_TICKETS)


def _not_enough(have: int) -> NotEnoughHistory:
    need = min_training_tickets()
    return NotEnoughHistory(
        _("Triage needs at least %(need)s solved or closed tickets to learn from; this desk has %(have)s. "
          "No model was trained.") % {"need": need, "have": have},
        details={"needed": need, "have": have})


def _fields_to_learn(records: list[dict], custom_keys: list[str]) -> list[str]:
    """Team, category, urgency and impact; priority instead of urgency and impact when the history only ever set
    priority (urgency and impact never vary); and the predictable custom fields."""
    def varies(name: str) -> bool:
        return len({r.get(name) for r in records if r.get(name)}) > 1

    fields = [name for name in ("team", "category") if varies(name)]
    if varies("urgency") or varies("impact"):
        fields += [name for name in ("urgency", "impact") if varies(name)]
    elif varies("priority"):
        fields.append("priority")
    fields += [CUSTOM_PREFIX + key for key in custom_keys if varies(CUSTOM_PREFIX + key)]
    return fields


def triage_train(*, actor: Actor, progress: Progress | None = None) -> TriageModel:
    """Train on the desk's solved and closed tickets, save the model file, record it and make it active.

    Raises ``NotEnoughHistory`` (nothing written) when the desk has fewer than ``settings.TRIAGE_MIN_TICKETS`` (default 100) such
    tickets, or when no field has two answers with enough examples."""
    have = learnable_ticket_count()
    if have < min_training_tickets():
        raise _not_enough(have)
    started = time.perf_counter()
    custom_keys = predictable_custom_field_keys()
    ids, records = training_history(custom_keys=custom_keys,
                                    progress=(lambda done, total: progress("read", done, total)) if progress else None)
    fields = _fields_to_learn(records, custom_keys)
    try:
        model = train_desk_model(records, fields, ticket_ids=ids, progress=progress)
    except NoSignal:
        raise NothingToLearn(
            _("Triage learned nothing from %(have)s tickets: no field (%(fields)s) is told by the text better than "
              "by its most common value. No model was trained.") % {"have": len(records), "fields": ", ".join(fields)},
            details={"have": len(records), "fields": fields})
    except NotEnoughData:
        raise _not_enough(len(records))
    fit_seconds = round(time.perf_counter() - started, 2)
    figures = {name: value for name, value in model.figures.items() if not name.startswith("_")}
    version = (TriageModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    file_name = f"triage-v{version}.joblib"
    sha256 = save(model, model_path(file_name))
    with transaction.atomic():
        TriageModel.objects.filter(is_active=True).update(is_active=False)
        row = TriageModel.objects.create(version=version, trained_at=timezone.now(), tickets=len(records),
                                         fields=figures, file_name=file_name, sha256=sha256,
                                         fit_seconds=fit_seconds, is_active=True,
                                         trained_by=actor.user)
    forget_loaded_model()
    return row


RETRAIN_HOUR = 2  # default of settings.TRIAGE_RETRAIN_HOUR (local time): the desk is quiet
RETRAIN_MIN_NEW = 200  # default of settings.TRIAGE_RETRAIN_MIN_NEW: new closed tickets that make a retrain worth it


def _learnable_since(moment) -> int:
    return (Ticket.objects.filter(status__in=LEARNED_STATUSES, is_spam=False, merged_into__isnull=True)
            .filter(Q(solved_at__gte=moment) | Q(closed_at__gte=moment)).count())


def triage_retrain_if_due(*, actor: Actor, now=None) -> dict:
    """Train when it is the retrain hour (``TRIAGE_RETRAIN_HOUR``, local time), no model was trained in the last
    20 hours, and at least ``TRIAGE_RETRAIN_MIN_NEW`` tickets were solved or closed since the active model (or,
    without a model, the desk has enough history). Returns what it did and why; never raises for too little or
    unusable history (the reason is returned)."""
    now = now or timezone.now()
    hour = getattr(settings, "TRIAGE_RETRAIN_HOUR", RETRAIN_HOUR)
    if timezone.localtime(now).hour != hour:
        return {"trained": False, "reason": "not_the_hour"}
    latest = TriageModel.objects.order_by("-trained_at").first()
    if latest is not None and now - latest.trained_at < datetime.timedelta(hours=20):
        return {"trained": False, "reason": "trained_recently"}
    if latest is not None:
        new = _learnable_since(latest.trained_at)
        needed = getattr(settings, "TRIAGE_RETRAIN_MIN_NEW", RETRAIN_MIN_NEW)
        if new < needed:
            return {"trained": False, "reason": "few_new_tickets", "new": new, "needed": needed}
    try:
        row = triage_train(actor=actor)
    except (NotEnoughHistory, NothingToLearn) as exc:
        return {"trained": False, "reason": exc.code}
    return {"trained": True, "version": row.version, "tickets": row.tickets}


@transaction.atomic
def triage_field_setting_save(*, field: str, auto_apply: bool, threshold: float, actor: Actor) -> FieldSetting:
    """Turn auto-apply on or off for a predicted field, with its confidence threshold (0.5–1)."""
    _require_admin(actor)
    if not (field in BASE_FIELDS or field.startswith(CUSTOM_PREFIX)) or len(field) > 80:
        raise ValidationError(_("Unknown field %(field)s.") % {"field": field}, code="unknown_field")
    if not 0.5 <= threshold <= 1.0:
        raise ValidationError(_("The threshold must be between 0.5 and 1."), code="invalid_threshold")
    stored = FieldSetting.objects.select_for_update().filter(field=field).first()
    before = model_snapshot(stored) if stored is not None else {}
    setting, _created = FieldSetting.objects.update_or_create(
        field=field, defaults={"auto_apply": auto_apply, "threshold": threshold})
    audit_settings_saved(actor=actor, target=setting, before=before)
    return setting


@transaction.atomic
def triage_predictable_fields_set(*, custom_fields: list[CustomField], actor: Actor) -> list[PredictableField]:
    """The dropdown custom fields the next training learns to predict (exactly these)."""
    _require_admin(actor)
    wrong = [f.key for f in custom_fields if f.kind != FieldKind.DROPDOWN]
    if wrong:
        raise ValidationError(_("Only dropdown fields can be predicted."), code="not_dropdown",
                              details={"fields": wrong})
    wanted = {f.pk for f in custom_fields}
    for dropped in PredictableField.objects.exclude(custom_field_id__in=wanted).select_related("custom_field"):
        audit_settings_deleted(actor=actor, target=dropped)
        dropped.delete()
    for pk in wanted:
        row, created = PredictableField.objects.get_or_create(custom_field_id=pk)
        if created:
            audit_settings_saved(actor=actor, target=row, before={})
    return list(PredictableField.objects.filter(custom_field_id__in=wanted))


def _require_admin(actor: Actor) -> None:
    if actor.kind not in ("system",) and not (actor.user is not None and actor.user.is_admin):
        raise PermissionDenied(_("Only administrators can change triage settings."))

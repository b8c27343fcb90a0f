"""Writes for triage: training a model from the desk's history and making it the active one."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.triage.learning.desk_model import NoSignal, NotEnoughData, save, train_desk_model
from atende.triage.models import TriageModel
from atende.triage.predictions import forget_loaded_model, model_path
from atende.triage.selectors import (
    CUSTOM_PREFIX,
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

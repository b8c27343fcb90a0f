"""``predict(ticket_data)``: the active model's suggestions for one ticket, fast and never raising.

The model is loaded once per process and kept in memory; which model is active is re-read from the database
at most every ``RECHECK_SECONDS``, so a retrained model is picked up without a restart and a prediction costs
no query. A missing, altered or unreadable model file gives no suggestions and one logged error (per model
version), never an exception into the caller: ticket creation must not depend on triage."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings

from atende.triage.learning.desk_model import DeskModel, ModelFileError, load
from atende.triage.selectors import CUSTOM_PREFIX, active_model, ticket_record

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 30.0
INTEGER_FIELDS = ("team", "category")  # labels stored as text, handed back as the row ids they are

_lock = threading.Lock()
_state: dict[str, object] = {"checked": -1e9, "key": None, "model": None, "failed": None}


def model_path(file_name: str) -> Path:
    return Path(settings.TRIAGE_MODEL_DIR) / file_name


def forget_loaded_model() -> None:
    """Drop the in-memory model (tests, and after training in this process)."""
    with _lock:
        _state.update(checked=-1e9, key=None, model=None, failed=None)


def loaded_model() -> DeskModel | None:
    """The active model, loaded; ``None`` when there is none or its file cannot be used (logged once)."""
    now = time.monotonic()
    if now - _state["checked"] < RECHECK_SECONDS:
        return _state["model"]
    with _lock:
        if now - _state["checked"] < RECHECK_SECONDS:
            return _state["model"]
        try:
            row = active_model()
        except Exception:  # the database is unreachable: keep what we have, try again later
            logger.exception("triage: cannot read the active model")
            _state["checked"] = now
            return _state["model"]
        key = (row.version, row.sha256) if row else None
        if key != _state["key"]:
            _state["model"] = None
            if row is not None:
                try:
                    _state["model"] = load(model_path(row.file_name), sha256=row.sha256)
                except ModelFileError as exc:
                    if _state["failed"] != key:
                        logger.error("triage: model v%s unusable, no suggestions until retrained: %s",
                                     row.version, exc)
                    _state["failed"] = key
            _state["key"] = key
        _state["checked"] = now
        return _state["model"]


def loaded_model_version() -> int | None:
    """The version of the model ``loaded_model()`` returned (``None`` without one); no query."""
    key = _state["key"]
    return key[0] if key and _state["model"] is not None else None


def _value(name: str, label: str):
    if name in INTEGER_FIELDS:
        return int(label)
    return label


def predict(ticket_data: Mapping[str, object]) -> dict[str, tuple[object, float]]:
    """Suggestions for one ticket: ``{field: (value, confidence)}``, confidence in [0, 1].

    ``ticket_data`` holds ``subject``, ``body`` (the first message), ``channel``, ``organization_id`` and
    ``requester_id`` (missing keys are treated as empty). Fields: ``team`` and ``category`` (row ids),
    ``urgency``, ``impact``, ``priority`` (only for a history that has priority alone), and
    ``custom_fields.<key>`` for the predictable custom fields. Fields the model could not learn are absent; with
    no usable model the result is ``{}``. Never raises."""
    try:
        model = loaded_model()
        if model is None:
            return {}
        record = ticket_record(subject=str(ticket_data.get("subject") or ""), body=str(ticket_data.get("body") or ""),
                               channel=str(ticket_data.get("channel") or ""),
                               organization_id=ticket_data.get("organization_id"),
                               requester_id=ticket_data.get("requester_id"))
        out = {}
        for name, (label, confidence) in model.predict(record).items():
            key = "custom_fields." + name[len(CUSTOM_PREFIX):] if name.startswith(CUSTOM_PREFIX) else name
            out[key] = (_value(name, label), round(confidence, 4))
        return out
    except Exception:
        logger.exception("triage: prediction failed; the ticket goes on without suggestions")
        return {}

"""``Idempotency-Key`` on creates: the first response is stored with the key and replayed for every repeat.

The key row is inserted in the same transaction as the create. A concurrent request with the same key blocks on
the unique index until the first commits (PostgreSQL; SQLite serialises writers), then reads and replays the
stored response. If the first request fails, its transaction (key row included) rolls back and a retry runs anew.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from ninja.responses import Status

from atende.api.models import IdempotencyKey
from atende.core.exceptions import ValidationError

KEY_LIFETIME = datetime.timedelta(hours=24)
REPLAY_HEADER = "Idempotent-Replayed"


def request_fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request.body)
    except RawPostDataException:  # multipart: the body was streamed into POST and FILES
        for name, value in sorted(request.POST.lists()):
            digest.update(f"{name}={value}\n".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
    return digest.hexdigest()


def idempotent(request: HttpRequest, response: HttpResponse, key: str | None,
               create: Callable[[], tuple[int, dict[str, Any]]]) -> Status:
    """Run ``create`` (returning ``(status, json_body)``) at most once per user and key."""
    if key is None or key == "":
        return Status(*create())
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationError("Idempotency-Key must be 1 to 255 characters.", code="invalid_idempotency_key")
    user = request.user
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        # Expired keys of this user go now (so the table holds about a day of creates per client).
        IdempotencyKey.objects.filter(user=user, created_at__lt=timezone.now() - KEY_LIFETIME).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotencyKey.objects.get(user=user, key=key)
            if record.fingerprint != fingerprint:
                raise ValidationError("This Idempotency-Key was already used for a different request.",
                                      code="idempotency_key_reused")
            response[REPLAY_HEADER] = "true"
            return Status(record.status_code, record.response_body)
        status, body = create()
        record.status_code, record.response_body = status, body
        record.save(update_fields=["status_code", "response_body"])
    return Status(status, body)

"""The audit log, read only (administrators, admin-scoped tokens). There is no endpoint to change it."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field, IPvAnyAddress

from atende.api.auth import require_admin
from atende.api.listing import page_of
from atende.api.schemas import responses
from atende.audit.choices import AuditAction
from atende.audit.selectors import AuditFilter, audit_entry_list_for_user

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    created_at: datetime.datetime
    action: str
    actor: str = Field(..., description="The acting user's email at the time (empty: anonymous or system).")
    actor_kind: str
    person: str = Field(..., description="The person the entry concerns (whose sign-in, whose role).")
    object_type: str
    object_id: str
    object: str
    ip: str | None
    browser: str
    changes: dict[str, Any] = Field(..., description='{"field": [old, new]}; secrets show only "[hidden]".')
    details: dict[str, Any]


class AuditPageOut(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None
    has_next: bool


class AuditQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)
    action: AuditAction | None = None
    person: str | None = Field(None, max_length=254, description="Part of the actor's or the person's email.")
    object_type: str | None = Field(None, max_length=60)
    ip: IPvAnyAddress | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None


def _entry(entry) -> dict[str, Any]:
    return {"id": entry.pk, "created_at": entry.created_at, "action": entry.action, "actor": entry.actor_label,
            "actor_kind": entry.actor_kind, "person": entry.subject_label, "object_type": entry.target_type,
            "object_id": entry.target_id, "object": entry.target_label, "ip": entry.ip, "browser": entry.user_agent,
            "changes": entry.changes, "details": entry.data}


@router.get("/audit", response=responses(AuditPageOut), summary="Read the audit log (newest first)")
def audit_list(request: HttpRequest, query: Query[AuditQuery]):
    require_admin(request)
    filters = AuditFilter(action=query.action or "", person=query.person or "", target_type=query.object_type or "",
                          ip=str(query.ip) if query.ip else "", since=query.since, until=query.until)
    entries = audit_entry_list_for_user(user=request.user, filters=filters)
    return page_of(entries, order="-created_at", cursor=query.cursor, size=query.size, serialize=_entry)

"""Reads of the audit log: administrators only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from atende.accounts.models import User
from atende.audit.models import AuditEntry
from atende.core.exceptions import PermissionDenied


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    person: str = ""  # actor or subject: an email address or a part of it
    target_type: str = ""
    ip: str = ""
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None


def audit_entry_list_for_user(*, user: User, filters: AuditFilter = AuditFilter()) -> QuerySet[AuditEntry]:
    if not (user.is_authenticated and user.is_admin):
        raise PermissionDenied("Only administrators read the audit log.")
    qs = AuditEntry.objects.all()
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.person:
        qs = qs.filter(Q(actor_label__icontains=filters.person) | Q(subject_label__icontains=filters.person))
    if filters.target_type:
        qs = qs.filter(target_type=filters.target_type)
    if filters.ip:
        qs = qs.filter(ip=filters.ip)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    return qs


def audit_target_types() -> list[str]:
    return list(AuditEntry.objects.exclude(target_type="").order_by("target_type")
                .values_list("target_type", flat=True).distinct())

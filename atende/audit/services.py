"""The audit log's one write path. Every app's services call ``audit_record`` inside their own transaction,
so an entry exists exactly when the change it describes was committed."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from atende.accounts.models import User
from atende.audit.choices import AuditAction
from atende.audit.context import current_origin
from atende.audit.models import AuditEntry
from atende.core.actor import Actor

# "key" is not listed: a custom field's key and a chat widget's public key are names, not secrets.
SECRET_FIELDS = frozenset({"password", "secret", "client_secret", "oauth2_token", "token_hash", "private_key"})
REDACTED = "[hidden]"
PSEUDONYM = "erased-person-{pk}"


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes):
        return [_json_value(v) for v in value]
    return str(value)


def model_snapshot(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The row's concrete field values as JSON (foreign keys as ids), for ``changes_between``."""
    skip = set(exclude) | {"created_at", "updated_at"}
    return {f.name: _json_value(f.value_from_object(instance)) for f in instance._meta.concrete_fields
            if f.name not in skip and not f.primary_key}


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"field": [old, new]}`` for every field whose value differs; secrets show only that they changed."""
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = _json_value(before.get(name)), _json_value(after.get(name))
        if old != new:
            changed[name] = [REDACTED, REDACTED] if name in SECRET_FIELDS else [old, new]
    return changed


def _actor_parts(actor: Actor | User | None) -> tuple[User | None, str]:
    if isinstance(actor, Actor):
        return actor.user, actor.kind
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor, Actor.for_user(actor).kind
    return None, "anonymous" if actor is None else "system"


@transaction.atomic
def audit_record(*, action: AuditAction | str, actor: Actor | User | None = None, subject: User | None = None,
                 subject_label: str = "", target: models.Model | None = None, target_type: str = "",
                 target_label: str = "", changes: dict | None = None, data: dict | None = None,
                 ip: str | None = None, user_agent: str | None = None) -> AuditEntry:
    """Append one entry. ``actor`` did it (None: an anonymous visitor); ``subject`` is the person it concerns
    (whose sign-in, whose role); ``target`` the configuration object changed. The request's IP and browser come
    from ``AuditContextMiddleware`` unless given."""
    actor_user, actor_kind = _actor_parts(actor)
    origin = current_origin()
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_label = target_label or str(target)
    entry = AuditEntry(
        action=str(action), actor=actor_user, actor_label=actor_user.email if actor_user else "",
        actor_kind=actor_kind, subject=subject,
        subject_label=(subject.email if subject is not None else subject_label)[:254],
        target_type=target_type[:60], target_id=str(target.pk) if target is not None and target.pk else "",
        target_label=target_label[:200], ip=ip if ip is not None else origin.ip,
        user_agent=(user_agent if user_agent is not None else origin.user_agent)[:300],
        changes=_json_value(changes or {}), data=_json_value(data or {}),
    )
    entry.save()
    return entry


def audit_settings_change(*, actor: Actor | User | None, target: models.Model, operation: str,
                          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                          target_type: str = "") -> AuditEntry | None:
    """A configuration object was created, updated or deleted. An update that changed nothing is not recorded."""
    changes = changes_between(before or {}, after or {})
    if operation == "updated" and not changes:
        return None
    return audit_record(action=AuditAction.SETTINGS_CHANGED, actor=actor, target=target, target_type=target_type,
                        changes=changes, data={"operation": operation})


def audit_settings_reordered(*, actor: Actor | User | None, target: models.Model, before: list[str],
                             after: list[str]) -> AuditEntry | None:
    """An ordered list (rules, macros, SLA policies) was reordered by moving ``target``: the order before and after,
    by name, since the order decides which rule wins."""
    if before == after:
        return None
    return audit_record(action=AuditAction.SETTINGS_CHANGED, actor=actor, target=target,
                        changes={"order": [before, after]}, data={"operation": "reordered"})


def audit_settings_deleted(*, actor: Actor | User | None, target: models.Model,
                           exclude: Iterable[str] = ()) -> AuditEntry | None:
    """Before a service deletes ``target``: what it held goes into the entry."""
    return audit_settings_change(actor=actor, target=target, operation="deleted",
                                 before=model_snapshot(target, exclude=exclude))


def audit_user_change(*, actor, user, before: dict, after: dict, created: bool) -> None:
    """A person's account was created or edited: a role change is its own entry (it changes what they may do)."""
    changes = changes_between(before, after)
    if created:
        audit_record(action=AuditAction.USER_CREATED, actor=actor, subject=user,
                     changes=changes_between({}, {k: after.get(k) for k in ("email", "role", "is_active")}))
        return
    role = changes.pop("role", None)
    if role is not None:
        audit_record(action=AuditAction.ROLE_CHANGED, actor=actor, subject=user, changes={"role": role})
    if changes:
        audit_record(action=AuditAction.USER_CHANGED, actor=actor, subject=user, changes=changes)


def audit_settings_saved(*, actor: Actor | User | None, target: models.Model, before: dict[str, Any],
                         extra: dict[str, Any] | None = None, exclude: Iterable[str] = ()) -> AuditEntry | None:
    """After a service saved ``target``: ``before`` is its snapshot taken before the change ({} when new)."""
    after = {**model_snapshot(target, exclude=exclude), **(extra or {})}
    return audit_settings_change(actor=actor, target=target, operation="updated" if before else "created",
                                 before=before, after=after)


def _scrub(value: Any, needles: list[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        lowered = value.lower()
        return pseudonym if any(n.lower() in lowered for n in needles) else value
    if isinstance(value, list):
        return [_scrub(v, needles, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles, pseudonym) for k, v in value.items()}
    return value


@transaction.atomic
def audit_pseudonymise(*, person: User, email: str, name: str = "") -> int:
    """A privacy erasure: the person's address and name leave the log (the entries stay, under a pseudonym).
    ``email`` and ``name`` are the ones the person had before the erasure. Returns the entries changed."""
    pseudonym = PSEUDONYM.format(pk=person.pk)
    needles = [n for n in {email.strip(), name.strip()} if len(n) >= 3]
    changed = 0
    rows = AuditEntry.objects.filter(models.Q(actor=person) | models.Q(subject=person)
                                     | models.Q(actor_label__iexact=email) | models.Q(subject_label__iexact=email)
                                     | models.Q(target_label__icontains=email)
                                     # named only inside what changed: a team's members, a report's recipients
                                     | models.Q(changes__icontains=email) | models.Q(data__icontains=email))
    for entry in rows.iterator():
        update = {
            "actor_label": pseudonym if entry.actor_id == person.pk or entry.actor_label.lower() == email.lower()
            else entry.actor_label,
            "subject_label": pseudonym if entry.subject_id == person.pk or entry.subject_label.lower() == email.lower()
            else entry.subject_label,
            "target_label": _scrub(entry.target_label, needles, pseudonym),
            "changes": _scrub(entry.changes, needles, pseudonym), "data": _scrub(entry.data, needles, pseudonym),
            "user_agent": "", "ip": None,
        }
        AuditEntry.objects.filter(pk=entry.pk).update(**update)
        changed += 1
    return changed

"""Writes of the API app: personal tokens and idempotency records."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from atende.accounts.models import User
from atende.api.choices import TokenScope
from atende.api.models import ApiToken
from atende.audit.choices import AuditAction
from atende.audit.services import audit_record
from atende.core.actor import Actor
from atende.core.exceptions import NotFound, PermissionDenied, ValidationError

TOKEN_PREFIX = "atd_"
# Writing last_used_at on every request would turn every read into a write; once a minute is enough.
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def allowed_scopes(user: User) -> list[str]:
    """Customers act only on their own tickets; the admin scope is for administrators."""
    if user.is_admin:
        return [TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN]
    return [TokenScope.READ, TokenScope.WRITE]


@transaction.atomic
def api_token_create(*, actor: Actor, user: User, name: str, scope: str = TokenScope.READ,
                     expires_at: datetime.datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the secret, which is never stored or shown again."""
    if actor.user is not None and actor.user.pk != user.pk and not actor.user.is_admin:
        raise PermissionDenied("Only administrators create tokens for other people.")
    if not user.is_active:
        raise ValidationError("Tokens can only be created for active users.", code="user_inactive")
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError("Give the token a name.", code="name_required", details={"name": "required"})
    if scope not in TokenScope.values:
        raise ValidationError(f"Unknown scope {scope!r}.", code="unknown_scope", details={"scope": scope})
    if scope not in allowed_scopes(user):
        raise ValidationError("Only administrators can hold admin-scoped tokens.", code="scope_not_allowed",
                              details={"scope": scope})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("The expiry must be in the future.", code="expiry_in_past")
    public = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user=user, name=name, prefix=f"{TOKEN_PREFIX}{public}", token_hash=token_hash(raw),
                     scope=scope, expires_at=expires_at)
    token.full_clean()
    token.save()
    audit_record(action=AuditAction.API_TOKEN_CREATED, actor=actor, subject=user, target=token,
                 target_label=f"{token.name} ({token.prefix})",
                 data={"scope": scope, "expires_at": expires_at.isoformat() if expires_at else None})
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    if actor.user is not None and actor.user.pk != token.user_id and not actor.user.is_admin:
        raise NotFound("Token not found.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=AuditAction.API_TOKEN_REVOKED, actor=actor, subject=token.user, target=token,
                     target_label=f"{token.name} ({token.prefix})")
    return token


def api_token_mark_used(*, token: ApiToken, ip: str | None) -> None:
    """Record the last use, at most once a minute (a plain UPDATE; nothing else depends on it)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION or token.last_used_ip != ip:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip

"""Signed-in sessions: begun after every factor has passed, listed for their owner, ended on request, after a
password change or a second-factor reset, or by the policy's lifetime and idle timeout."""

from __future__ import annotations

import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.utils import timezone

from atende.accounts.models import User
from atende.audit.choices import AuditAction
from atende.audit.context import origin_of
from atende.audit.services import audit_record
from atende.core.actor import Actor
from atende.core.exceptions import NotFound
from atende.signin.models import SecurityPolicy, SignInSession

SEEN_KEY = "_atende_seen"  # epoch seconds of the session's last recorded request
IDLE_KEY = "_atende_idle"  # the policy's idle timeout in minutes, as last read
SEEN_RESOLUTION = 60  # seconds: last_seen_at is written at most once a minute per session
BACKEND = "atende.accounts.backends.EmailBackend"


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_begin(request, *, user: User, method: str, second_factor: str = "", provider: str = "") -> SignInSession:
    """Sign ``user`` in on this browser (a new session key), record the session and the sign-in."""
    policy = SecurityPolicy.load()
    login(request, user, backend=BACKEND)
    request.session.set_expiry(policy.session_lifetime_hours * 3600)
    now = timezone.now()
    request.session[SEEN_KEY], request.session[IDLE_KEY] = now.timestamp(), policy.session_idle_minutes
    request.session.save()
    origin = origin_of(request)
    with transaction.atomic():
        record = SignInSession.objects.create(
            session_key=request.session.session_key, user=user, method=method, second_factor=second_factor,
            provider=provider, ip=origin.ip, user_agent=origin.user_agent, last_seen_at=now)
        audit_record(action=AuditAction.SIGNIN_SUCCEEDED, actor=user, subject=user,
                     data={"method": method, "second_factor": second_factor, "provider": provider})
    return record


def session_touch(request, *, now: datetime.datetime) -> bool:
    """Note a request on this session; returns False (and signs out) once the idle timeout or the lifetime has
    passed, or the session was ended elsewhere. Most requests cost nothing: the session row and the policy are
    read, and last_seen_at written, at most once a minute."""
    session = request.session
    seen, idle = session.get(SEEN_KEY), session.get(IDLE_KEY)
    if seen is None:  # not begun by session_begin (a session from before sessions were recorded): left alone
        return True
    if idle and now.timestamp() - seen > idle * 60:
        session_sign_out(request, reason="idle")
        return False
    if now.timestamp() - seen < SEEN_RESOLUTION:
        return True
    policy = SecurityPolicy.load()
    record = SignInSession.objects.filter(session_key=session.session_key).only("id", "created_at", "ended_at").first()
    if record is None or record.ended_at is not None or \
            now - record.created_at > datetime.timedelta(hours=policy.session_lifetime_hours):
        session_sign_out(request, reason="expired" if record is not None and record.ended_at is None else "ended")
        return False
    session[SEEN_KEY], session[IDLE_KEY] = now.timestamp(), policy.session_idle_minutes
    SignInSession.objects.filter(pk=record.pk).update(last_seen_at=now)
    return True


def session_sign_out(request, *, reason: str = "signed_out") -> None:
    key = request.session.session_key
    user = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        if key:
            SignInSession.objects.filter(session_key=key, ended_at__isnull=True).update(
                ended_at=timezone.now(), ended_reason=reason)
        if user is not None:
            audit_record(action=AuditAction.SIGNED_OUT if reason == "signed_out" else AuditAction.SESSION_ENDED,
                         actor=user if reason == "signed_out" else None, subject=user, data={"reason": reason})
    logout(request)


@transaction.atomic
def session_end(*, actor: Actor, user: User, session_id: int, reason: str = "ended_by_user") -> SignInSession:
    """End one of ``user``'s sessions (their own list; an admin may end anyone's)."""
    if actor.user is None or (actor.user.pk != user.pk and not actor.user.is_admin):
        raise NotFound("Session not found.")
    record = SignInSession.objects.select_for_update().filter(pk=session_id, user=user, ended_at__isnull=True).first()
    if record is None:
        raise NotFound("Session not found.")
    _end(record, reason)
    audit_record(action=AuditAction.SESSION_ENDED, actor=actor, subject=user,
                 data={"reason": reason, "session_ip": record.ip, "session_started": record.created_at.isoformat()})
    return record


@transaction.atomic
def sessions_end_all(*, user: User, keep_session_key: str | None = None, reason: str) -> int:
    """End every session of ``user`` except ``keep_session_key`` (a password change keeps the current one).

    Every session is recorded at sign-in (or, for one begun before sessions were recorded, at its first request)."""
    records = list(SignInSession.objects.select_for_update().filter(user=user, ended_at__isnull=True)
                   .exclude(session_key=keep_session_key or ""))
    for record in records:
        _end(record, reason)
    return len(records)


def _end(record: SignInSession, reason: str) -> None:
    record.ended_at, record.ended_reason = timezone.now(), reason
    record.save(update_fields=["ended_at", "ended_reason"])
    _session_store()(session_key=record.session_key).delete()

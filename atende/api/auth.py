"""Who is calling: a personal Bearer token, or the browser session (with CSRF) for the site's own pages.

Both end the same way: ``request.user`` is the person, ``request.api_token`` the token (or ``None``), the
request is counted against the caller's rate limit, and a read-only token is refused on writes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from atende.accounts.models import User
from atende.api.choices import TokenScope, scope_allows
from atende.api.errors import RateLimited, Unauthenticated
from atende.api.selectors import api_token_for_secret
from atende.api.services import api_token_mark_used
from atende.core.exceptions import PermissionDenied
from atende.core.throttle import rates, throttle_hit

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _admit(request: HttpRequest, user: User, token=None) -> User:
    request.user = user
    request.api_token = token
    _count_request(f"token:{token.prefix}" if token is not None else f"user:{user.pk}")
    if request.method not in SAFE_METHODS and token is not None and not scope_allows(token.scope, TokenScope.WRITE):
        raise PermissionDenied("This token is read-only.", code="insufficient_scope",
                               details={"scope": token.scope, "required": TokenScope.WRITE})
    return user


def _count_request(subject: str) -> None:
    """One request against the caller's budget (throttle scope ``api.token``; 429 ``rate_limited`` when over)."""
    decision = throttle_hit("api.token", subject, rates("api.token"))
    if not decision.allowed:
        rate = decision.refused_by
        raise RateLimited(retry_after=decision.retry_after, limit=rate.count, window=rate.period)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer atd_…``: a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = api_token_for_secret(token.strip())
        if found is None or not found.is_usable(timezone.now()) or not found.user.is_active:
            raise Unauthenticated("The API token is invalid, expired or revoked.", code="invalid_token")
        api_token_mark_used(token=found, ip=_client_ip(request))
        return _admit(request, found.user, found)


class SessionAuth(APIKeyCookie):
    """The signed-in browser session. Writes need the CSRF token, exactly as for the site's forms."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied("CSRF check failed: send the X-CSRFToken header.", code="csrf_failed")
        return _admit(request, user)


def require_admin(request: HttpRequest) -> User:
    """Administration endpoints: an administrator, and (with a token) an admin-scoped one."""
    user = request.user
    token = getattr(request, "api_token", None)
    if not user.is_admin:
        raise PermissionDenied("Only administrators can do this.")
    if token is not None and not scope_allows(token.scope, TokenScope.ADMIN):
        raise PermissionDenied("This needs an admin-scoped token.", code="insufficient_scope",
                               details={"scope": token.scope, "required": TokenScope.ADMIN})
    return user

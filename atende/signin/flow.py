"""The steps of signing in, shared by every way in (password, email link, single sign-on): after the first
factor, ask for the second (or set one up when the policy requires it), then begin the session.

The user is not signed in until every step has passed: in between, the session only holds who is half-way
(``PENDING``), for ten minutes, and every page but the second-factor ones treats the browser as anonymous."""

from __future__ import annotations

import time

from django.conf import settings
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from atende.accounts.models import User
from atende.signin.services.mfa import has_second_factor, needs_second_factor_setup
from atende.signin.services.sessions import session_begin

PENDING = "signin_pending"
PENDING_MAX_AGE = 600


def safe_next(request, next_url: str | None) -> str:
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def signin_continue(request, *, user: User, method: str, provider: str = "", next_url: str = "",
                    ask_second_factor: bool = True):
    """The response after ``user`` passed the first factor by ``method``. Single sign-on passes
    ``ask_second_factor=False``: the identity provider's own policy (and its second factor) applies."""
    if ask_second_factor and (has_second_factor(user) or needs_second_factor_setup(user)):
        request.session.cycle_key()  # a fresh key for the half-signed-in browser
        request.session[PENDING] = {"user": user.pk, "method": method, "provider": provider, "at": time.time(),
                                    "next": safe_next(request, next_url)}
        return redirect("accounts:mfa_verify" if has_second_factor(user) else "accounts:mfa_setup")
    session_begin(request, user=user, method=method, provider=provider)
    return redirect(safe_next(request, next_url))


def pending_user(request) -> tuple[User, dict] | tuple[None, None]:
    """Who is half-way through signing in on this browser (None after ten minutes)."""
    data = request.session.get(PENDING)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PENDING_MAX_AGE:
        request.session.pop(PENDING, None)
        return None, None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    return (user, data) if user is not None else (None, None)


def signin_finish(request, *, user: User, data: dict, second_factor: str):
    """The second factor passed: begin the session and go where the user was going."""
    request.session.pop(PENDING, None)
    session_begin(request, user=user, method=data["method"], provider=data.get("provider", ""),
                  second_factor=second_factor)
    return redirect(data.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))

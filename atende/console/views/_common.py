"""Helpers shared by the list pages' views (queues, saved views, bulk actions, search)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme


def console_view(*, agents_only: bool = False):
    """Log-in required; console users only (agents only for writes). Everyone else gets a 404, as for a
    page that does not exist."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_staff_member or (agents_only and not user.is_agent):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"

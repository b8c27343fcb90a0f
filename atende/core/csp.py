"""The Content-Security-Policy of every page (django-csp; the policy is ``CONTENT_SECURITY_POLICY`` in settings,
docs/security.md) and the one thing a view may loosen: who may frame it.

    @frame_ancestors(lambda request: allowed_origins())    # or @frame_ancestors("https://shop.example")
    def contact_form_embed(request): ...

Pages are framed by nobody (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``) unless their view says
otherwise. ``frame_ancestors`` replaces the directive for that response with the given origins (``'self'``
allowed) and drops ``X-Frame-Options`` there, which cannot name origins; with no origin the page stays unframed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from csp.constants import NONE, SELF
from django.views.decorators.clickjacking import xframe_options_exempt

Origins = Iterable[str] | Callable[..., Iterable[str]]


def _valid_origin(origin: str) -> bool:
    origin = origin.strip()
    if origin in (SELF, "'self'"):
        return True
    scheme, _, rest = origin.partition("://")
    return scheme in ("https", "http") and bool(rest) and not any(c in rest for c in " ;,'\"/")


def frame_ancestors(*origins: str | Callable[..., Iterable[str]]):
    """Let the listed origins (or those a callable returns for the request) frame this view's pages."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            allowed: list[str] = []
            for item in origins:
                allowed.extend(item(request) if callable(item) else [item])
            allowed = [o.strip().rstrip("/") for o in allowed if o and _valid_origin(o.rstrip("/"))]
            replace = dict(getattr(response, "_csp_replace", None) or {})
            replace["frame-ancestors"] = allowed or [NONE]
            response._csp_replace = replace
            return response

        return xframe_options_exempt(wrapper) if origins else wrapper

    return decorator

"""The Content-Security-Policy of every page (django-csp; the policy is ``CONTENT_SECURITY_POLICY`` in settings,
docs/security.md) and the one thing a view may loosen: who may frame it.

    @frame_ancestors(lambda request: allowed_origins())    # or @frame_ancestors("https://shop.example")
    def contact_form_embed(request): ...

Pages are framed by nobody (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``) unless their view says
otherwise. ``frame_ancestors`` replaces the directive for that response with the given origins (``'self'``
allowed) and drops ``X-Frame-Options`` there, which cannot name origins; with no origin the page stays unframed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import wraps

from csp.constants import NONE, SELF
from django.views.decorators.clickjacking import xframe_options_exempt

Origins = Iterable[str] | Callable[..., Iterable[str]]


# scheme://host[:port], nothing else (no paths; a wildcard only as a leading "*." label; no quotes or semicolons).
ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


def clean_origin(value: str) -> str | None:
    """``value`` as an origin fit for a CSP source list, or None when it is anything else."""
    value = value.strip().rstrip("/")
    if value in (SELF, "'self'"):
        return "'self'"
    return value.lower() if ORIGIN.match(value) else None


def frame_ancestors(*origins: str | Callable[..., Iterable[str]]):
    """Let the listed origins (or those a callable returns for the request) frame this view's pages."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            allowed: list[str] = []
            for item in origins:
                allowed.extend(item(request) if callable(item) else [item])
            allowed = list(dict.fromkeys(o for o in (clean_origin(v) for v in allowed if v) if o))
            replace = dict(getattr(response, "_csp_replace", None) or {})
            replace["frame-ancestors"] = allowed or [NONE]
            response._csp_replace = replace
            return response

        return xframe_options_exempt(wrapper) if origins else wrapper

    return decorator

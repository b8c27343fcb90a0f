"""Who may show a page inside a frame: one decorator that sets ``Content-Security-Policy: frame-ancestors`` per
view (and lifts the site-wide ``X-Frame-Options: DENY`` for it), so an embeddable page can be framed by the
origins an admin allowed and by nobody else.

    @frame_ancestors(lambda request: ContactFormSettings.load().origins())
    def contact_embed(request): ...

Browsers that know CSP (all current ones) obey ``frame-ancestors`` and ignore ``X-Frame-Options``; with no
origins allowed the policy is ``'none'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import wraps

from django.views.decorators.clickjacking import xframe_options_exempt

# scheme://host[:port], nothing else (no paths, wildcards only as a leading "*." label, no quotes or semicolons).
ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


def clean_origin(value: str) -> str | None:
    value = value.strip().rstrip("/")
    return value.lower() if ORIGIN.match(value) else None


def frame_ancestors_value(origins: Iterable[str]) -> str:
    allowed = [o for o in (clean_origin(v) for v in origins) if o]
    return "frame-ancestors " + (" ".join(["'self'", *dict.fromkeys(allowed)]) if allowed else "'none'")


def frame_ancestors(origins: Callable[..., Iterable[str]]):
    """Decorate a view: ``origins(request)`` lists the origins allowed to frame it (besides the site itself)."""

    def decorator(view):
        @xframe_options_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            policy = frame_ancestors_value(origins(request))
            existing = response.get("Content-Security-Policy", "")
            kept = [part for part in existing.split(";") if part.strip() and
                    not part.strip().lower().startswith("frame-ancestors")]
            response["Content-Security-Policy"] = "; ".join([*(p.strip() for p in kept), policy])
            return response

        return wrapper

    return decorator

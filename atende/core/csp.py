"""The Content-Security-Policy of every page (django-csp; the policy is ``CONTENT_SECURITY_POLICY`` in settings,
docs/security.md) and the one thing a view may loosen: who may frame it.

    @frame_ancestors(lambda request: allowed_origins())    # or @frame_ancestors("https://shop.example")
    def contact_form_embed(request): ...

Pages are framed by nobody (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``) unless their view says
otherwise. ``frame_ancestors`` replaces the directive for that response with the given origins (``'self'``
allowed) and drops ``X-Frame-Options`` there, which cannot name origins; with no origin the page stays unframed.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict
from functools import wraps

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONE, SELF
from csp.utils import build_policy
from django.conf import settings
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


# The policies of responses that neither change them nor use a nonce (nearly every response), by report-only,
# each with the settings value it was built from: they depend on that value alone, and a test's settings
# override puts another value in its place (compared by identity, and kept so its id is never reused).
_built: dict[bool, tuple[object, str]] = {}


def _settings_policy(report_only: bool) -> str:
    value = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY",
                    None)
    built = _built.get(report_only)
    if built is None or built[0] is not value:
        built = _built[report_only] = (value, build_policy(report_only=report_only))
    return built[1]


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware with the settings' policies built once per process: building both (the policy and
    the report-only one) on every response was a tenth of the fixed cost every page pays. A response whose view
    changes its policy (``frame_ancestors``) or uses a nonce is built as before. ``process_response`` is
    django-csp 4.0's (the version pinned), with that one change."""

    def process_response(self, request, response):
        if response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND) and settings.DEBUG:
            return response
        for report_only, header, exempt, setting in (
                (False, HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
                (True, HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY")):
            parts = self.get_policy_parts(request=request, response=response, report_only=report_only)
            if parts.config is None and parts.update is None and parts.replace is None and parts.nonce is None:
                policy = _settings_policy(report_only)
            else:
                policy = build_policy(**asdict(parts), report_only=report_only)
            if policy and header not in response and getattr(response, exempt, False) is False:
                prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
                if not request.path_info.startswith(tuple(prefixes)):
                    response[header] = policy
        # As django-csp: once the header is written, reading the nonce is an error (it could no longer be sent).
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response

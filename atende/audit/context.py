"""Where the current request comes from (IP, browser), so services can record it without taking the request.

``AuditContextMiddleware`` sets it for every HTTP request; code outside a request (commands, the worker)
records no IP.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None = None
    user_agent: str = ""


_origin: contextvars.ContextVar[RequestOrigin | None] = contextvars.ContextVar("atende_audit_origin", default=None)


def origin_of(request) -> RequestOrigin:
    return RequestOrigin(ip=request.META.get("REMOTE_ADDR") or None,
                         user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300])


def current_origin() -> RequestOrigin:
    return _origin.get() or RequestOrigin()


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _origin.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)

"""Every error leaves the API as ``{"error": {"code", "message", "details"}}`` with the right status."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from atende.core.exceptions import DomainError
from atende.core.throttle import Throttled as ThrottleRefused

logger = logging.getLogger(__name__)


class Unauthenticated(DomainError):
    """Missing, invalid, expired or revoked credentials."""

    code = "unauthenticated"
    status = 401


class RateLimited(DomainError):
    """Too many requests; try again after ``retry_after`` seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, *, retry_after: float, limit: int, window: int):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"Rate limit of {limit} requests per {window} seconds exceeded.",
                         details={"retry_after": self.retry_after, "limit": limit, "window": window})


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def _json_details(details: Any) -> Any:
    try:
        import json

        json.dumps(details)
        return details
    except (TypeError, ValueError):
        return str(details)


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, code: str, message: str, details: Any = None) -> HttpResponse:
        return api.create_response(request, error_body(code, message, _json_details(details)), status=status)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        response = respond(request, exc.status, exc.code, exc.message, exc.details)
        if isinstance(exc, RateLimited | ThrottleRefused):
            response["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, Unauthenticated):
            response["WWW-Authenticate"] = 'Bearer realm="atende"'
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc: NinjaValidationError):
        details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
                    "type": str(e.get("type", ""))} for e in exc.errors]
        return respond(request, 422, "validation_error", "The request is invalid.", details)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        response = respond(request, 401, "unauthenticated", "Authentication required: send a Bearer token.")
        response["WWW-Authenticate"] = 'Bearer realm="atende"'
        return response

    @api.exception_handler(AuthorizationError)
    def authorization_error(request, exc):
        return respond(request, 403, "forbidden", str(exc) or "Forbidden.")

    @api.exception_handler(Throttled)
    def throttled(request, exc):
        return respond(request, 429, "rate_limited", "Too many requests.")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "error")
        if "CSRF" in str(exc):
            code = "csrf_failed"
        return respond(request, exc.status_code, code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, "not_found", "Not found.")

    @api.exception_handler(DjangoValidationError)
    def model_validation_error(request, exc: DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return respond(request, 422, "validation_error", "; ".join(exc.messages), details)

    @api.exception_handler(IntegrityError)
    def integrity_error(request, exc):
        return respond(request, 409, "conflict", "This conflicts with an existing record.")

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", "Something went wrong on our side.")

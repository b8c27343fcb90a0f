"""Every error leaves the API as ``{"error": {"code", "message", "details"}}`` with the right status."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from atende.api.parsing import InvalidJSON, UnsupportedMediaType
from atende.core.exceptions import DomainError
from atende.core.request_limits import TOO_BIG, body_limit, busy_response, is_busy
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
        unknown = [d["loc"][-1] for d in details if d["type"] == "extra_forbidden" and d["loc"]]
        if unknown:
            return respond(request, 422, "unknown_field", f"Unknown field(s): {', '.join(unknown)}.", details)
        return respond(request, 422, "validation_error", "The request is invalid.", details)

    # Bodies the API cannot read: too large, not JSON, a broken multipart form. Never a 500.
    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        limit = body_limit(request.META.get("CONTENT_TYPE", ""))
        return respond(request, 413, "body_too_large", f"The request is too large (at most {limit} bytes).",
                       {"limit": limit})

    @api.exception_handler(MultiPartParserError)
    def bad_multipart(request, exc):
        return respond(request, 400, "invalid_multipart", f"The multipart body cannot be read: {exc}")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        return respond(request, 400, "bad_request", "The request could not be understood.")

    @api.exception_handler(UnicodeDecodeError)
    def not_utf8(request, exc):
        return respond(request, 400, "invalid_encoding", "The request is not valid UTF-8.")

    @api.exception_handler(OverflowError)
    def overflow(request, exc):  # an id or number beyond what the database stores (SQLite: 64 bits)
        return respond(request, 422, "out_of_range", "A number in the request is out of range.")

    @api.exception_handler(DataError)
    def data_error(request, exc):  # PostgreSQL's side of the same: a value that does not fit its column
        return respond(request, 422, "out_of_range", "A value in the request does not fit.")

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
        cause = exc.__cause__
        if isinstance(cause, UnsupportedMediaType):
            return respond(request, 415, "unsupported_media_type", str(cause),
                           {"content_type": cause.content_type, "expected": "application/json"})
        if isinstance(cause, InvalidJSON):
            return respond(request, 400, "invalid_json", str(cause))
        if isinstance(cause, TOO_BIG):
            return too_big(request, cause)
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

    @api.exception_handler(OperationalError)
    def database_busy(request, exc):  # a peak the database cannot take at once: retry, not a server fault
        if is_busy(exc):
            return busy_response(request)
        return server_error(request, exc)

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", "Something went wrong on our side.")

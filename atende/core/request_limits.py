"""Request bodies the desk refuses before anything reads them, and the answers for bodies it cannot read.

``RequestLimitMiddleware`` (first in ``MIDDLEWARE``) refuses a declared ``Content-Length`` over the limit with
413 before the body is read: ``REQUEST_BODY_MAX_BYTES`` (``DATA_UPLOAD_MAX_MEMORY_SIZE``) for form and JSON
bodies, ``REQUEST_UPLOAD_MAX_BYTES`` for ``multipart/form-data`` (attachments). A body sent without a length
(chunked) is read and then refused the same way by Django's own checks, which ``bad_request`` (``handler400``)
turns into 413 on pages; the API maps them in ``atende.api.errors``. Under ``/api/`` every refusal is the
JSON error body ``{"error": {"code", "message", "details"}}``; pages get a short HTML page.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

TOO_BIG = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def body_limit(content_type: str) -> int:
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        return settings.REQUEST_UPLOAD_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "json" in request.META.get("CONTENT_TYPE", "").lower()


def refusal(request: HttpRequest, status: int, code: str, message: str, details: dict | None = None) -> HttpResponse:
    """The same refusal as JSON (API) or as a page (everything else)."""
    if wants_json(request):
        return JsonResponse({"error": {"code": code, "message": message, "details": details}}, status=status)
    html = render_to_string("request_refused.html", {"status": status, "message": message}, request=request)
    return HttpResponse(html, status=status)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    return refusal(request, 413, "body_too_large",
                   _("The request is too large (at most %(limit)s bytes).") % {"limit": limit}, {"limit": limit})


class RequestLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH", "").strip()
        if declared:
            if not declared.isdigit():
                return refusal(request, 400, "bad_content_length", _("The Content-Length header is not a number."))
            limit = body_limit(request.META.get("CONTENT_TYPE", ""))
            if int(declared) > limit:
                return too_large(request, limit)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a body over a limit is 413; anything else Django refused as suspicious is 400."""
    if isinstance(exception, TOO_BIG):
        return too_large(request, body_limit(request.META.get("CONTENT_TYPE", "")))
    return refusal(request, 400, "bad_request", _("The request could not be understood."))


BUSY_MARKERS = ("database is locked", "database table is locked", "couldn't get a connection")


def is_busy(exc: BaseException) -> bool:
    """The database could not take the request in time: SQLite's write lock held past the busy timeout, or no
    PostgreSQL connection free in the pool. Nothing was written; the same request a moment later succeeds."""
    return isinstance(exc, OperationalError) and any(m in str(exc).lower() for m in BUSY_MARKERS)


class BusyMiddleware:
    """A peak the database cannot absorb at once is answered 503 with ``Retry-After``, so clients retry instead of
    treating it as a server fault (a 500). Pages here; the API's own handler does the same (``api.errors``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return busy_response(request) if is_busy(exception) else None


def busy_response(request: HttpRequest) -> HttpResponse:
    retry = int(getattr(settings, "ATENDE_BUSY_RETRY_AFTER_SECONDS", 2))
    response = refusal(request, 503, "busy", _("The desk is busy right now; please try again in a moment."),
                       {"retry_after": retry})
    response["Retry-After"] = str(retry)
    return response

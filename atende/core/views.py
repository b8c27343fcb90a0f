import re
import time

from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from atende.core.image_proxy import ImageProxyError, fetch_image, proxy_target
from atende.core.outbox.status import events_health
from atende.core.selectors import site_branding

COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on every site whatever the page links: send them to the static file."""
    return HttpResponsePermanentRedirect(static("atende/favicon.ico"))


@require_GET
def branding_css(request):
    """The branding colours as CSS custom properties (pages may carry no inline <style> under the CSP)."""
    branding = site_branding()
    brand = branding["primary_color"] if COLOR.match(branding["primary_color"] or "") else "#1f6feb"
    accent = branding["accent_color"] if COLOR.match(branding["accent_color"] or "") else "#0f766e"
    response = HttpResponse(f":root {{ --brand: {brand}; --accent: {accent}; }}\n", content_type="text/css")
    response["Cache-Control"] = "public, max-age=86400" if request.GET.get("v") else "no-cache"
    return response


@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers and ``make run``'s wait loop; ``degraded`` (still
    200) when an events subscriber lags more than ``ATENDE_EVENTS_LAG_DEGRADED_SECONDS``."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy"
        return JsonResponse({"status": "error", "database": "unreachable", "detail": str(exc)[:200]}, status=503)
    try:
        events = events_health()
    except Exception as exc:  # noqa: BLE001 - the tables may not exist yet (before migrate): still alive
        events = {"error": str(exc)[:200]}
    return JsonResponse(
        {
            "status": "degraded" if events.get("degraded") else "ok",
            "database": "ok",
            "events": events,
            "vendor": connection.vendor,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    )


def home(request):
    """Agents go to the console; customers and visitors to the portal."""
    user = request.user
    if user.is_authenticated and getattr(user, "is_staff_member", False):
        return redirect("console:queues")
    return redirect("portal:home")


@require_GET
def image_proxy(request):
    """A remote image of a message, fetched by the desk (see ``atende.core.image_proxy``). Staff only, and only
    for URLs the desk signed; refusals answer with the JSON error body, never the remote server's content."""
    if not (request.user.is_authenticated and getattr(request.user, "is_staff_member", False)):
        return _proxy_error(ImageProxyError("forbidden", "Sign in as an agent to load images.", 403))
    try:
        image = fetch_image(proxy_target(request.GET.get("t", "")))
    except ImageProxyError as exc:
        return _proxy_error(exc)
    response = HttpResponse(image.content, content_type=image.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = 'inline; filename="image"'
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _proxy_error(exc: ImageProxyError) -> JsonResponse:
    return JsonResponse({"error": {"code": exc.code, "message": exc.message, "details": {}}}, status=exc.status)

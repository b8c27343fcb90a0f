import time

from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on every site whatever the page links: send them to the static file."""
    return HttpResponsePermanentRedirect(static("atende/favicon.ico"))


@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers and ``make run``'s wait loop."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy"
        return JsonResponse({"status": "error", "database": "unreachable", "detail": str(exc)[:200]}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
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

import os

from atende.core.asgi import sync_chain_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.prod")
django_asgi_app = sync_chain_asgi_application()  # the request in one thread: see atende/core/asgi.py

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from atende.config.routing import public_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from atende.core.gc_tuning import settle  # noqa: E402

site_websockets = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
public_websockets = URLRouter(public_websocket_urlpatterns)  # no cookies; the consumers check the Origin
PUBLIC_PREFIXES = ("/ws/chat/",)


async def websocket_router(scope, receive, send):
    app = public_websockets if scope.get("path", "").startswith(PUBLIC_PREFIXES) else site_websockets
    return await app(scope, receive, send)


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_router})

# ``atende serve`` (and so ``make run``) runs the worker and scheduler inside the web process unless told otherwise.
if os.environ.get("ATENDE_EMBEDDED_WORKER") == "1":
    from atende.core.embedded import EmbeddedWorkerApp  # noqa: E402

    application = EmbeddedWorkerApp(application)

# Every URLconf and view imported now rather than by the first request, then what start-up loaded is left out of
# later garbage collections (atende/core/gc_tuning.py).
settle()

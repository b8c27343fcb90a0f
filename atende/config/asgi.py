import os

from atende.core.asgi import sync_chain_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.prod")
django_asgi_app = sync_chain_asgi_application()  # the request in one thread: see atende/core/asgi.py

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from atende.config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# ``atende serve`` (and so ``make run``) runs the worker and scheduler inside the web process unless told otherwise.
if os.environ.get("ATENDE_EMBEDDED_WORKER") == "1":
    from atende.core.embedded import EmbeddedWorkerApp  # noqa: E402

    application = EmbeddedWorkerApp(application)

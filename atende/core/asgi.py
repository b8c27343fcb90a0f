"""Django's ASGI handler with the whole request (middleware and view) run in one thread, as under WSGI.

Django's own handler loads the middleware in async mode: Django's middleware classes then run each
``process_request``/``process_response`` through ``sync_to_async``, and the chain crosses between the event loop
and a thread several times per request before the synchronous view runs. Every view here is synchronous, so
the middleware is loaded in sync mode and the request enters a thread once. Websockets (Channels consumers) and
the ASGI server's event loop are unaffected; each request still gets a thread of its own (Django's
``ThreadSensitiveContext``), so requests still run concurrently.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def sync_chain_asgi_application() -> SyncChainASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()

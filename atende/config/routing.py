"""Websocket routes. Each app that has consumers exposes ``websocket_urlpatterns`` in its ``routing.py``."""

from importlib import import_module

websocket_urlpatterns = []
for _app in ("console", "chat"):
    try:
        websocket_urlpatterns += import_module(f"atende.{_app}.routing").websocket_urlpatterns
    except ModuleNotFoundError:
        pass

"""Websocket routes. Each app that has consumers exposes ``websocket_urlpatterns`` in its ``routing.py``; list it here."""

from atende.console import routing as console_routing

websocket_urlpatterns = [*console_routing.websocket_urlpatterns]

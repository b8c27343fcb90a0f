"""Websocket routes. Each app that has consumers exposes ``websocket_urlpatterns`` in its ``routing.py``; list it here.
Routes reached from other sites (the chat widget) are ``public_websocket_urlpatterns``: they skip the site's Origin
check, and their consumers check the Origin against their own allow-list."""

from atende.chat import routing as chat_routing
from atende.console import routing as console_routing

websocket_urlpatterns = [*console_routing.websocket_urlpatterns, *chat_routing.websocket_urlpatterns]
public_websocket_urlpatterns = [*chat_routing.public_websocket_urlpatterns]

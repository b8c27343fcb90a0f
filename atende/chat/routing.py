from django.urls import path

from atende.chat.consumers import AgentConsumer, VisitorConsumer

# Served behind the site's origin check and session (config/asgi.py): the console's chat socket.
websocket_urlpatterns = [
    path("ws/console/chat/", AgentConsumer.as_asgi()),
]

# Reached from other sites: the consumer checks the Origin against the widget's own allow-list.
public_websocket_urlpatterns = [
    path("ws/chat/<str:key>/", VisitorConsumer.as_asgi()),
]

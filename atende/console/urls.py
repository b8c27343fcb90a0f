"""The console's URLs: queue/list/search pages and the ticket workspace/profile pages live in separate modules."""

from django.urls import path

from atende.console.urls_lists import urlpatterns as list_patterns
from atende.console.urls_workspace import urlpatterns as workspace_patterns
from atende.console.views import events

app_name = "console"
urlpatterns = [
    *list_patterns, *workspace_patterns,
    path("settings/events/", events.events_page, name="events"),
    path("settings/events/<int:retry_id>/<str:action>/", events.parked_event_action, name="parked_event_action"),
]

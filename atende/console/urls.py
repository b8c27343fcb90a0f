"""The console's URLs: queue/list/search pages and the ticket workspace/profile pages live in separate modules."""

from atende.console.urls_lists import urlpatterns as list_patterns
from atende.console.urls_workspace import urlpatterns as workspace_patterns

app_name = "console"
urlpatterns = [*list_patterns, *workspace_patterns]

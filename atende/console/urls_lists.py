"""Queue, saved-view, bulk-action and search pages."""

from django.urls import path

from atende.console.views import bulk, queues, saved_views, search

urlpatterns = [
    path("", queues.queues, name="queues"),
    path("queues/nav/", queues.queue_nav, name="queue_nav"),
    path("views/new/", saved_views.saved_view_new, name="saved_view_new"),
    path("views/<int:view_id>/", queues.saved_view, name="saved_view"),
    path("views/<int:view_id>/edit/", saved_views.saved_view_edit, name="saved_view_edit"),
    path("views/<int:view_id>/delete/", saved_views.saved_view_remove, name="saved_view_delete"),
    path("bulk/", bulk.bulk_apply, name="bulk"),
    path("search", search.search, name="search"),
    path("search/", search.search),
]

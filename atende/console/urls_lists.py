from django.urls import path

from atende.console.views import queues

urlpatterns = [
    path("", queues.queues, name="queues"),
]

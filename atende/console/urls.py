from django.urls import path

from atende.console import views

app_name = "console"
urlpatterns = [
    path("", views.queues, name="queues"),
]

from django.urls import path  # noqa: F401

app_name = "email_channel"
urlpatterns: list = []

from django.urls import path

from atende.email_channel import views

app_name = "email_channel"
urlpatterns = [
    path("inbound/<int:inbound_id>/raw/", views.inbound_raw, name="inbound_raw"),
    path("quarantine/", views.quarantine_list, name="quarantine"),
    path("quarantine/<int:inbound_id>/", views.quarantine_action, name="quarantine_action"),
    path("ses/<str:token>/", views.ses_notification, name="ses_notification"),
]

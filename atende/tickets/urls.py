from django.urls import path

from atende.tickets import views

app_name = "tickets"
urlpatterns = [
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]

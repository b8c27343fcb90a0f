from django.urls import path

from atende.integrations import views

app_name = "integrations"
urlpatterns = [
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:subscription_id>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:subscription_id>/<slug:action>/", views.webhook_action, name="webhook_action"),
    path("deliveries/<int:delivery_id>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
]

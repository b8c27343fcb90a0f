from django.urls import path

from atende.messaging import views

app_name = "messaging"
urlpatterns = [
    path("telegram/<str:secret>/", views.telegram_webhook, name="telegram"),
    path("whatsapp/", views.whatsapp_webhook, name="whatsapp"),
    path("connectors/", views.connectors_page, name="connectors"),
    path("tickets/<int:number>/template/", views.template_reply, name="template_reply"),
]

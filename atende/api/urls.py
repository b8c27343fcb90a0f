from django.urls import path

from atende.api import views
from atende.api.api import api

app_name = "api"
urlpatterns = [
    path("v1/", api.urls),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]

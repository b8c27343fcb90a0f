from django.urls import path

from atende.portal.views import auth, branding, home, requests, tickets

app_name = "portal"
urlpatterns = [
    path("", home.home, name="home"),
    path("requests/new/", requests.request_new, name="request_new"),
    path("requests/<int:number>/submitted/", requests.request_submitted, name="request_submitted"),
    path("tickets/", tickets.ticket_list, name="tickets"),
    path("tickets/<int:number>/", tickets.ticket_detail, name="ticket"),
    path("tickets/<int:number>/reply/", tickets.ticket_reply, name="ticket_reply"),
    path("tickets/<int:number>/resolution/", tickets.ticket_resolution, name="ticket_resolution"),
    path("verify/", auth.verify_needed, name="verify_needed"),
    path("settings/branding/", branding.branding_settings, name="branding"),
    path("branding/logo/", branding.branding_logo, name="branding_logo"),
]

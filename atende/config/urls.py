from django.contrib import admin
from django.urls import include, path

from atende.accounts import urls as accounts_urls
from atende.chat import urls as chat_urls
from atende.core import views as core_views
from atende.portal import urls_auth as portal_auth_urls
from atende.signin import urls as signin_urls
from atende.signin.views import login as signin_login

urlpatterns = [
    # First: the resolver tries the patterns in order, and the API is what clients call most (every other prefix
    # differs from "api/", so the order changes nothing else).
    path("api/", include("atende.api.urls")),
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("branding.css", core_views.branding_css, name="branding_css"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("image-proxy/", core_views.image_proxy, name="image_proxy"),
    # The Django admin signs in (and out) through the product's own pages, second factor included.
    path("admin/login/", signin_login.admin_login_redirect),
    path("admin/logout/", signin_login.logout_view),
    path("admin/", admin.site.urls),
    path("accounts/", include(([*accounts_urls.urlpatterns, *portal_auth_urls.urlpatterns,
                                *signin_urls.urlpatterns], "accounts"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tickets/", include("atende.tickets.urls")),
    path("console/audit/", include("atende.audit.urls")),
    path("console/security/", include("atende.signin.urls_admin")),
    path("console/sla/", include("atende.sla.urls")),
    path("console/automation/", include("atende.automation.urls")),
    path("console/triage/", include("atende.triage.urls")),
    path("console/chat/", include((chat_urls.console_urlpatterns, "chat_console"))),
    path("console/", include("atende.console.urls")),
    path("chat/", include("atende.chat.urls")),
    path("portal/", include("atende.portal.urls")),
    path("contact/", include("atende.contact.urls")),
    path("messaging/", include("atende.messaging.urls")),
    path("kb/", include("atende.kb.urls")),
    path("surveys/", include("atende.surveys.urls")),
    path("reports/", include("atende.reports.urls")),
    path("email/", include("atende.email_channel.urls")),
    path("integrations/", include("atende.integrations.urls")),
]

handler400 = "atende.core.request_limits.bad_request"

"""The core URLs alone (health, admin, accounts and sign-in, tickets), for tests of core views that must not depend on
every other app's pages loading."""

from django.contrib import admin
from django.urls import include, path

from atende.accounts import urls as accounts_urls
from atende.core import views as core_views
from atende.portal import urls_auth as portal_auth_urls
from atende.signin import urls as signin_urls

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("branding.css", core_views.branding_css, name="branding_css"),
    path("admin/", admin.site.urls),
    path("accounts/", include(([*accounts_urls.urlpatterns, *portal_auth_urls.urlpatterns,
                                *signin_urls.urlpatterns], "accounts"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tickets/", include("atende.tickets.urls")),
]

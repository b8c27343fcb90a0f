from django.conf import settings

from atende.core.selectors import site_branding


def site(request):
    return {"branding": site_branding(), "SITE_URL": settings.SITE_URL}

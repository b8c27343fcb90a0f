from django.conf import settings


def site(request):
    from atende.core.selectors import site_branding

    return {"branding": site_branding(), "SITE_URL": settings.SITE_URL}

import zoneinfo

from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Language and time zone from the user's profile.

    Runs after Django's LocaleMiddleware (which already chose from the language cookie or the browser's
    Accept-Language), so the profile wins only when it names a language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            if user.locale:
                translation.activate(user.locale)
                request.LANGUAGE_CODE = translation.get_language()
            if user.time_zone:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

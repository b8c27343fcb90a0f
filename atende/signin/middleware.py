from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.signin.services.sessions import session_touch


class SignInSessionMiddleware:
    """Keeps each signed-in session's "last seen", and ends it after the policy's idle timeout or lifetime."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session") and request.session.session_key:
            if not session_touch(request, now=timezone.now()):
                if request.path.startswith("/api/"):
                    return self.get_response(request)  # now anonymous: the API answers 401 itself
                messages.info(request, _("Your session ended. Please sign in again."))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)

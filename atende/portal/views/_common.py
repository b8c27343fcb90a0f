from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect


def portal_login_required(view):
    """Logged in; a self-registered customer must also have verified their address first (otherwise
    anyone could sign up with someone else's address and read the tickets later mailed from it)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.is_customer and not user.email_verified:
            return redirect("portal:verify_needed")
        return view(request, *args, **kwargs)

    return wrapped


def session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from atende.kb.selectors import can_write_articles


def writer_required(view):
    """Agents and admins only; a visitor is sent to log in, anyone else gets 404 (nothing to see here)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_write_articles(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def manage_layout() -> str:
    """The console's page shell when the console app provides one, else the shared shell."""
    try:
        get_template("console/base.html")
    except TemplateDoesNotExist:
        return "base.html"
    return "console/base.html"


def session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""

"""Shared bits of the settings pages: who may see them, and the rule preview against a real ticket."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from atende.core.exceptions import NotFound
from atende.tickets.selectors import access_ticket


def admin_required(view):
    """Settings are for administrators; everyone else gets the same 404 as for a missing page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_admin:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def agent_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_agent:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff_member:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def preview_ticket(request):
    """The ticket named by ``?ticket=N`` if the admin may see it (``None`` when absent or not found)."""
    number = request.GET.get("ticket")
    if not number:
        return None, ""
    try:
        return access_ticket(user=request.user, number=number), ""
    except NotFound:
        return None, number


def form_error(form, exc) -> None:
    """Put a DomainError from the service on the form (the message names the faulty condition or action)."""
    form.add_error(None, str(exc))

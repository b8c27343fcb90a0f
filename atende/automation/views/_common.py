"""Shared bits of the settings pages: the rule preview against a real ticket, and form errors."""

from __future__ import annotations

from atende.core.exceptions import NotFound
from atende.tickets.selectors import access_ticket


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

"""Bulk actions on the tickets selected in a list."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from atende.console.forms import BulkActionForm
from atende.console.services import BulkAction, tickets_bulk_apply
from atende.console.views._common import console_view, is_htmx, safe_next
from atende.core.exceptions import DomainError

MAX_REPORTED_FAILURES = 25


@require_POST
@console_view(agents_only=True)
def bulk_apply(request):
    """Apply the chosen action to each selected ticket; report successes and each failure with its reason."""
    back = safe_next(request, reverse("console:queues"))
    form = BulkActionForm(request.POST, user=request.user)
    report = None
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            report = tickets_bulk_apply(user=request.user, **form.service_kwargs())
        except DomainError as exc:
            messages.error(request, exc.message)
    if report is not None:
        label = BulkAction(report.action).label
        if report.succeeded:
            numbers = ", ".join(f"#{o.number}" for o in report.succeeded[:50])
            messages.success(request, ngettext(
                "%(action)s: %(count)d ticket updated (%(numbers)s).",
                "%(action)s: %(count)d tickets updated (%(numbers)s).", len(report.succeeded),
            ) % {"action": label, "count": len(report.succeeded), "numbers": numbers})
        if report.failed:
            messages.error(request, ngettext(
                "%(action)s: %(count)d ticket could not be changed.",
                "%(action)s: %(count)d tickets could not be changed.", len(report.failed),
            ) % {"action": label, "count": len(report.failed)})
            for outcome in report.failed[:MAX_REPORTED_FAILURES]:
                where = f"#{outcome.number}" if outcome.number else _("Ticket %(id)s") % {"id": outcome.ticket_id}
                messages.error(request, f"{where}: {outcome.message}")
    if is_htmx(request):
        response = render(request, "console/_bulk_report.html", {"report": report})
        response["HX-Trigger"] = "atende:list-refresh"
        return response
    return redirect(back)

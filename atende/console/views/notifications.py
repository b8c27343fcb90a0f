"""The notifications bell (mentions, assignments, customer replies on my tickets) and the @-mention autocomplete."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from atende.accounts.decorators import staff_required
from atende.console.selectors import mention_candidates, notification_list_for_user, notification_unread_count
from atende.console.services import notifications_mark_read


@staff_required
def notification_bell(request):
    """The bell with its unread count (htmx refreshes it when tickets change)."""
    return render(request, "console/_bell.html", {"unread": notification_unread_count(user=request.user)})


@staff_required
def notification_list(request):
    return render(request, "console/notifications.html", {
        "notifications": notification_list_for_user(user=request.user),
        "unread": notification_unread_count(user=request.user)})


@staff_required
@require_POST
def notification_read(request, notification_id: int | None = None):
    """Mark one notification read and open its ticket, or mark them all read."""
    notifications_mark_read(user=request.user, notification_id=notification_id)
    number = request.POST.get("ticket")
    if notification_id is not None and number and number.isdigit():
        return redirect("console:ticket", number=int(number))
    return redirect("console:notifications")


@staff_required
def mention_agents(request):
    return JsonResponse({"agents": mention_candidates(user=request.user, query=request.GET.get("q", ""))})

"""Settings → Events: each subscriber's lag and the parked (dead-letter) events, with retry and discard.
Administrators only."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import admin_required
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.core.outbox.services import parked_event_discard, parked_event_retry
from atende.core.outbox.status import events_health, subscriber_status
from atende.core.selectors import parked_event_list


@admin_required
def events_page(request):
    parked = parked_event_list(user=request.user)[:200]
    return render(request, "console/events.html", {"subscribers": subscriber_status(), "parked": parked,
                                                   "health": events_health()})


@admin_required
@require_POST
def parked_event_action(request, retry_id: int, action: str):
    service = {"retry": parked_event_retry, "discard": parked_event_discard}.get(action)
    if service is None:
        return redirect("console:events")
    try:
        row = service(actor=Actor.for_user(request.user), retry_id=retry_id)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        text = (_("Event %(event)s will run again for %(subscriber)s.") if action == "retry"
                else _("Event %(event)s discarded for %(subscriber)s."))
        messages.success(request, text % {"event": row.event_id, "subscriber": row.subscriber})
    return redirect("console:events")

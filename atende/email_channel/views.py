"""The original of a stored message (for agents who can see its ticket) and the quarantine page (admins)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.email_channel.selectors import access_inbound, quarantine_list_for_admin
from atende.email_channel.services import inbound_discard, inbound_reprocess


@login_required
def inbound_raw(request, inbound_id: int):
    try:
        inbound = access_inbound(user=request.user, inbound_id=inbound_id)
    except NotFound:
        raise Http404
    response = HttpResponse(inbound.raw_bytes, content_type="text/plain; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Type"] = "message/rfc822"
        response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
def quarantine_list(request):
    try:
        rows = quarantine_list_for_admin(user=request.user)
    except NotFound:
        raise Http404
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "email_channel/quarantine.html", {"page": page})


@login_required
@require_POST
def quarantine_action(request, inbound_id: int):
    if not request.user.is_admin:
        raise Http404
    try:
        inbound = access_inbound(user=request.user, inbound_id=inbound_id)
    except NotFound:
        raise Http404
    action = request.POST.get("action")
    actor = Actor.for_user(request.user)
    try:
        if action == "reprocess":
            row = inbound_reprocess(inbound=inbound, actor=actor)
            messages.success(request, _("Message reprocessed: %(status)s.") % {"status": row.get_status_display()})
        elif action == "discard":
            inbound_discard(inbound=inbound, actor=actor)
            messages.success(request, _("Message discarded."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("email_channel:quarantine")

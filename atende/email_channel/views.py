"""The original of a stored message (for agents who can see its ticket) and the quarantine page (admins)."""

import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.email_channel.selectors import access_inbound, quarantine_list_for_admin
from atende.email_channel.services import inbound_discard, inbound_reprocess
from atende.email_channel.services.bounces import ses_reports
from atende.email_channel.services.undeliverable import bounce_apply

logger = logging.getLogger(__name__)


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


@csrf_exempt
@require_POST
def ses_notification(request, token: str):
    """Amazon SES bounce and complaint notifications, posted by an SNS HTTPS subscription to
    ``/email/ses/<EMAIL_SES_WEBHOOK_TOKEN>/``. The secret in the URL authenticates the caller (SNS message
    signatures are not verified: that needs the signing certificate fetched from AWS). A subscription
    confirmation is logged with its SubscribeURL for an administrator to open. Always JSON; never 500."""
    expected = settings.EMAIL_SES_WEBHOOK_TOKEN
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return JsonResponse({"error": {"code": "not_found", "message": "Not found.", "details": None}}, status=404)
    try:
        envelope = json.loads(request.body.decode("utf-8"))
        kind = envelope.get("Type", "") if isinstance(envelope, dict) else ""
        if kind == "SubscriptionConfirmation":
            logger.warning("SES/SNS subscription to confirm: open %s", str(envelope.get("SubscribeURL", ""))[:500])
            return JsonResponse({"status": "confirmation_logged"})
        message = envelope.get("Message") if kind == "Notification" else envelope
        notification = json.loads(message) if isinstance(message, str) else message
        if not isinstance(notification, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return JsonResponse({"error": {"code": "invalid_json", "message": "Send the SNS notification as JSON.",
                                       "details": None}}, status=400)
    reports = ses_reports(notification)
    tickets = [bounce_apply(report=report) for report in reports]
    return JsonResponse({"status": "applied" if reports else "ignored", "tickets": [t for t in tickets if t]})

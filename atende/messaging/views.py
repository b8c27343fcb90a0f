"""Webhook endpoints of the messaging platforms, verified the way each platform specifies, and the admins'
connector page. Every call is logged (``InboundWebhook``): refused ones without acting, malformed ones with the
raw body and the reason, answered 400; a platform retrying a message it already delivered gets 200 and nothing
new is stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.contrib import messages as flash
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.core.throttle import client_ip
from atende.messaging.choices import Platform, WebhookOutcome
from atende.messaging.connectors import connector_config, connector_enabled, connector_summary
from atende.messaging.selectors import recent_inbound_webhooks, whatsapp_template_list, whatsapp_template_list_all
from atende.messaging.services.inbound import conversation_receive, receipt_apply, webhook_log
from atende.messaging.services.outbound import whatsapp_template_reply
from atende.messaging.services.payloads import MalformedPayload, Parsed, parse_telegram, parse_whatsapp
from atende.tickets.selectors import access_ticket

logger = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024


def _refuse(request, platform: str, outcome: str, reason: str, status: int) -> JsonResponse:
    logger.warning("%s webhook refused from %s: %s", platform, client_ip(request), reason)
    webhook_log(platform=platform, outcome=outcome, reason=reason, body=request.body[:2000],
                remote_ip=client_ip(request), keep_body=False)
    return JsonResponse({"error": {"code": outcome, "message": reason}}, status=status)


def _process(request, platform: str, parse) -> JsonResponse:
    if len(request.body) > MAX_BODY:
        return _refuse(request, platform, WebhookOutcome.MALFORMED, "body too large", 413)
    try:
        payload = json.loads(request.body)
        parsed: Parsed = parse(payload)
    except (ValueError, MalformedPayload) as exc:
        reason = f"not JSON: {exc}" if not isinstance(exc, MalformedPayload) else str(exc)
        webhook_log(platform=platform, outcome=WebhookOutcome.MALFORMED, reason=reason, body=request.body,
                    remote_ip=client_ip(request))
        return JsonResponse({"error": {"code": "malformed", "message": reason}}, status=400)
    created = duplicates = 0
    for incoming in parsed.messages:
        _row, is_new = conversation_receive(incoming=incoming)
        created += is_new
        duplicates += not is_new
    for receipt in parsed.receipts:
        receipt_apply(receipt=receipt)
    outcome = (WebhookOutcome.PROCESSED if created or parsed.receipts else
               WebhookOutcome.DUPLICATE if duplicates else WebhookOutcome.IGNORED)
    webhook_log(platform=platform, outcome=outcome, body=request.body, remote_ip=client_ip(request))
    return JsonResponse({"ok": True, "created": created, "duplicates": duplicates,
                         "receipts": len(parsed.receipts)})


@csrf_exempt
@require_http_methods(["POST"])
def telegram_webhook(request, secret: str):
    """Telegram sends ``X-Telegram-Bot-Api-Secret-Token`` (the ``secret_token`` given to ``setWebhook``)."""
    config = connector_config(Platform.TELEGRAM)
    expected = config.get("webhook_secret", "")
    if not connector_enabled(Platform.TELEGRAM) or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404
    header = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if not header:
        return _refuse(request, Platform.TELEGRAM, WebhookOutcome.UNAUTHORIZED, "secret token header missing", 401)
    if not hmac.compare_digest(header.encode(), expected.encode()):
        return _refuse(request, Platform.TELEGRAM, WebhookOutcome.FORBIDDEN, "wrong secret token", 403)
    return _process(request, Platform.TELEGRAM, parse_telegram)


def whatsapp_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    """GET: Meta's verification handshake (echo ``hub.challenge`` when ``hub.verify_token`` matches). POST: events
    signed with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret)."""
    if not connector_enabled(Platform.WHATSAPP):
        raise Http404
    config = connector_config(Platform.WHATSAPP)
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        if request.GET.get("hub.mode") == "subscribe" and hmac.compare_digest(token.encode(),
                                                                              config["verify_token"].encode()):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return _refuse(request, Platform.WHATSAPP, WebhookOutcome.FORBIDDEN, "wrong verify token", 403)
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        return _refuse(request, Platform.WHATSAPP, WebhookOutcome.UNAUTHORIZED, "signature header missing", 401)
    if not hmac.compare_digest(signature.encode(), whatsapp_signature(config["app_secret"], request.body).encode()):
        return _refuse(request, Platform.WHATSAPP, WebhookOutcome.FORBIDDEN, "wrong signature", 403)
    return _process(request, Platform.WHATSAPP, parse_whatsapp)


def connectors_page(request):
    """Admins: each connector's state, the webhook address to register, masked secrets, recent webhook calls."""
    if not request.user.is_authenticated or not request.user.is_admin:
        raise Http404
    telegram_secret = connector_config(Platform.TELEGRAM).get("webhook_secret", "")
    webhooks = {
        Platform.TELEGRAM: request.build_absolute_uri(reverse("messaging:telegram", args=["SECRET"]))
        .replace("SECRET", "<TELEGRAM_WEBHOOK_SECRET>") if telegram_secret else "",
        Platform.WHATSAPP: request.build_absolute_uri(reverse("messaging:whatsapp")),
    }
    return render(request, "messaging/connectors.html", {
        "connectors": [dict(connector_summary(p), webhook_url=webhooks[p]) for p in (Platform.TELEGRAM,
                                                                                     Platform.WHATSAPP)],
        "templates": whatsapp_template_list_all(),
        "recent": recent_inbound_webhooks(),
    })


@require_http_methods(["POST"])
def template_reply(request, number: int):
    """Agents: send an approved WhatsApp template as the reply (outside the 24-hour window)."""
    if not request.user.is_authenticated or not request.user.is_agent:
        raise Http404
    try:
        ticket = access_ticket(user=request.user, number=number)
    except NotFound:
        raise Http404
    template = whatsapp_template_list().filter(pk=request.POST.get("template") or 0).first()
    if template is None:
        flash.error(request, _("Choose one of the approved templates."))
    else:
        try:
            whatsapp_template_reply(ticket=ticket, template=template, parameters=[request.POST.get("parameter", "")],
                                    actor=Actor.for_user(request.user))
        except DomainError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Template sent."))
    return redirect("console:ticket", number=ticket.number)

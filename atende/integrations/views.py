"""Administrators' pages: webhooks (subscribe, see deliveries, re-send, enable/disable, rotate the secret)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.core.pages import page_base
from atende.integrations.forms import WebhookForm
from atende.integrations.selectors import (
    access_webhook_delivery,
    access_webhook_subscription,
    webhook_delivery_list_for_user,
    webhook_subscription_list_for_user,
)
from atende.integrations.services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_ping,
    webhook_subscription_update,
)


def _admin_only(request) -> None:
    if not request.user.is_admin:
        raise Http404


@login_required
def webhook_list(request):
    _admin_only(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = webhook_subscription_create(actor=Actor.for_user(request.user), **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Webhook created. Its signing secret is shown below."))
            return redirect("integrations:webhook_detail", subscription.pk)
    return render(request, "integrations/webhooks.html", {
        "form": form, "subscriptions": webhook_subscription_list_for_user(user=request.user),
        "base_template": page_base(request.user),
    })


@login_required
def webhook_detail(request, subscription_id: int):
    _admin_only(request)
    try:
        subscription = access_webhook_subscription(user=request.user, subscription_id=subscription_id)
    except NotFound:
        raise Http404
    deliveries = webhook_delivery_list_for_user(user=request.user, subscription=subscription)[:50]
    return render(request, "integrations/webhook_detail.html", {
        "subscription": subscription, "deliveries": deliveries, "base_template": page_base(request.user),
    })


@login_required
@require_POST
def webhook_action(request, subscription_id: int, action: str):
    _admin_only(request)
    try:
        subscription = access_webhook_subscription(user=request.user, subscription_id=subscription_id)
    except NotFound:
        raise Http404
    actor = Actor.for_user(request.user)
    try:
        if action == "enable":
            webhook_subscription_update(actor=actor, subscription=subscription, changes={"is_active": True})
            messages.success(request, _("Webhook enabled."))
        elif action == "disable":
            webhook_subscription_update(actor=actor, subscription=subscription, changes={"is_active": False})
            messages.success(request, _("Webhook disabled."))
        elif action == "rotate":
            webhook_subscription_update(actor=actor, subscription=subscription, changes={}, rotate_secret=True)
            messages.success(request, _("A new signing secret was generated; update your receiver."))
        elif action == "ping":
            webhook_subscription_ping(actor=actor, subscription=subscription)
            messages.success(request, _("Test event queued."))
        elif action == "delete":
            webhook_subscription_delete(actor=actor, subscription=subscription)
            messages.success(request, _("Webhook deleted."))
            return redirect("integrations:webhooks")
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("integrations:webhook_detail", subscription_id)


@login_required
@require_POST
def delivery_redeliver(request, delivery_id: int):
    _admin_only(request)
    try:
        delivery = access_webhook_delivery(user=request.user, delivery_id=delivery_id)
        webhook_delivery_redeliver(actor=Actor.for_user(request.user), delivery=delivery)
    except NotFound:
        raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Delivery queued to be sent again."))
    subscription_id = delivery.payload.get("subscription_id")
    if subscription_id is None:  # an automation's one-off call belongs to no webhook page
        return redirect("integrations:webhooks")
    return redirect("integrations:webhook_detail", subscription_id)

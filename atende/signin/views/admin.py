"""Settings › Sign-in security (administrators): the policy, single sign-on providers, and staff second factors."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import admin_required
from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.signin.forms import MfaResetForm, PolicyForm, ProviderForm
from atende.signin.models import SecurityPolicy, SsoProvider
from atende.signin.selectors import sso_provider, sso_provider_list, staff_with_second_factor_status
from atende.signin.services.mfa import mfa_reset
from atende.signin.services.policy import security_policy_update, sso_provider_delete, sso_provider_save


@admin_required
def security_settings(request):
    policy = SecurityPolicy.load()
    form = PolicyForm(request.POST or None, instance=SecurityPolicy.load())
    if request.method == "POST" and form.is_valid():
        try:
            security_policy_update(actor=Actor.for_user(request.user),
                                   **{name: form.cleaned_data[name] for name in form.Meta.fields})
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The sign-in policy was saved."))
            return redirect("signin:settings")
    return render(request, "signin/admin/settings.html", {
        "form": form, "policy": policy, "providers": sso_provider_list(),
        "staff": staff_with_second_factor_status(), "reset_form": MfaResetForm(),
        "sp_base": request.build_absolute_uri("/accounts/")})


@admin_required
def provider_edit(request, provider_id: int | None = None):
    provider = get_object_or_404(SsoProvider, pk=provider_id) if provider_id else None
    form = ProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "default_teams"}
        try:
            saved = sso_provider_save(actor=Actor.for_user(request.user),
                                      # a fresh copy: validating the form already wrote its values on ``provider``
                                      provider=sso_provider(provider.pk) if provider else None,
                                      default_teams=list(form.cleaned_data["default_teams"]), **data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Provider “%(name)s” saved.") % {"name": saved.name})
            return redirect("signin:settings")
    return render(request, "signin/admin/provider_form.html", {
        "form": form, "provider": provider, "sp_base": request.build_absolute_uri("/accounts/")})


@admin_required
@require_POST
def provider_delete(request, provider_id: int):
    provider = get_object_or_404(SsoProvider, pk=provider_id)
    sso_provider_delete(actor=Actor.for_user(request.user), provider=provider)
    messages.success(request, _("Provider “%(name)s” deleted.") % {"name": provider.name})
    return redirect("signin:settings")


@admin_required
@require_POST
def second_factor_reset(request, user_id: int):
    person = get_object_or_404(User, pk=user_id)
    form = MfaResetForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        ended = mfa_reset(actor=Actor.for_user(request.user), user=person, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Second factors of %(who)s were removed; %(n)d sessions ended.")
                         % {"who": person.email, "n": ended})
    return redirect("signin:settings")

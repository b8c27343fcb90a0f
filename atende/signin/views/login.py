"""Sign-in pages: email and password, then the second factor (or its set-up when the policy requires one)."""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.exceptions import DomainError
from atende.core.selectors import site_branding
from atende.core.throttle import client_ip
from atende.signin.choices import SecondFactor
from atende.signin.flow import pending_user, safe_next, signin_continue, signin_finish
from atende.signin.forms import PasswordSignInForm
from atende.signin.selectors import sso_providers_for_login
from atende.signin.services.mfa import mfa_verify_code as verify_code
from atende.signin.services.mfa import (
    passkey_authentication_options,
    passkey_verify,
    totp_config_url,
    totp_enrol_confirm,
    totp_enrol_start,
    totp_pending,
    totp_secret_text,
)
from atende.signin.services.passwords import password_signin_check
from atende.signin.services.sessions import session_sign_out
from atende.signin.views._common import NOT_ACCEPTED, code_submission, relying_party

PASSKEY_CHALLENGE = "signin_passkey_challenge"


def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.user.is_authenticated:
        return redirect(safe_next(request, next_url))
    form = PasswordSignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        check = password_signin_check(email=form.cleaned_data["username"], password=form.cleaned_data["password"],
                                      ip=client_ip(request))
        if check.user is not None:
            return signin_continue(request, user=check.user, method="password", next_url=next_url)
        form.add_error(None, check.message)
        status = 429 if check.code == "locked" else 200
    return render(request, "signin/login.html", {"form": form, "next": next_url,
                                                   "providers": sso_providers_for_login()}, status=status)


def admin_login_redirect(request):
    return redirect_to_login(request.GET.get("next") or "/admin/", login_url="accounts:login")


@require_POST
def logout_view(request):
    session_sign_out(request)
    return redirect("accounts:login")


def mfa_verify(request):
    user, data = pending_user(request)
    if user is None:
        messages.info(request, _("Please sign in again."))
        return redirect("accounts:login")
    form, status, factor = code_submission(request, lambda code: verify_code(user=user, code=code))
    if factor is not NOT_ACCEPTED:
        return signin_finish(request, user=user, data=data, second_factor=factor)
    return render(request, "signin/verify.html", {
        "form": form, "has_totp": user.totpdevice_set.filter(confirmed=True).exists(),
        "has_passkey": user.passkeys.exists()}, status=status)


@require_POST
def passkey_options(request):
    user, _data = pending_user(request)
    if user is None:
        raise Http404
    options, challenge = passkey_authentication_options(user=user, rp=relying_party(request))
    request.session[PASSKEY_CHALLENGE] = challenge.hex()
    return HttpResponse(options, content_type="application/json")


@require_POST
def passkey_finish(request):
    user, data = pending_user(request)
    challenge = request.session.pop(PASSKEY_CHALLENGE, None)
    if user is None or not challenge:
        return JsonResponse({"error": _("Please sign in again.")}, status=400)
    try:
        passkey_verify(user=user, rp=relying_party(request), challenge=bytes.fromhex(challenge),
                       credential=request.body.decode("utf-8", "replace"))
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    response = signin_finish(request, user=user, data=data, second_factor=SecondFactor.PASSKEY)
    return JsonResponse({"redirect": response.url})


def mfa_setup(request):
    """The policy requires a second factor and this user has none: set up an authenticator app now."""
    user, data = pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form, status, codes = code_submission(request, lambda code: totp_enrol_confirm(user=user, code=code))
    if codes is not NOT_ACCEPTED:
        response = signin_finish(request, user=user, data=data, second_factor=SecondFactor.TOTP)
        return render(request, "signin/recovery_codes.html", {"codes": codes, "next": response.url})
    device = totp_pending(user) or totp_enrol_start(user=user)
    return render(request, "signin/setup.html", {"form": form, "secret": totp_secret_text(device),
                                                 "qr_url": "accounts:mfa_setup_qr"}, status=status)


def mfa_setup_qr(request):
    user, _data = pending_user(request)
    if user is None:
        raise Http404
    return qr_response(totp_pending(user))


def qr_response(device) -> HttpResponse:
    """The authenticator's set-up QR code as an SVG image (made here: no third party sees the secret)."""
    if device is None:
        raise Http404
    url = totp_config_url(device, issuer=site_branding()["name"])
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, dark="#000", light="#fff", xmldecl=True)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


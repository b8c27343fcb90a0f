"""Profile › Security: second factors, recovery codes, passkeys, active sessions and the password."""

from __future__ import annotations

from urllib.parse import unquote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.signin.choices import SecondFactor
from atende.signin.forms import PasswordChangeForm, PasswordConfirmForm
from atende.signin.selectors import session_list_for_user
from atende.signin.services.mfa import (
    mfa_device_remove,
    passkey_register,
    passkey_registration_options,
    recovery_codes_create,
    recovery_codes_left,
    totp_devices,
    totp_enrol_confirm,
    totp_enrol_start,
    totp_pending,
    totp_secret_text,
)
from atende.signin.services.passwords import password_change
from atende.signin.services.sessions import session_end
from atende.signin.views._common import NOT_ACCEPTED, code_submission, relying_party
from atende.signin.views.login import qr_response

PASSKEY_CHALLENGE = "security_passkey_challenge"


def _page(request, *, password_form=None, status: int = 200):
    user = request.user
    return render(request, "signin/security.html", {
        "totp_devices": totp_devices(user), "passkeys": user.passkeys.all(),
        "recovery_left": recovery_codes_left(user), "sessions": session_list_for_user(user=user),
        "current_key": request.session.session_key, "password_form": password_form or PasswordChangeForm(),
        "remove_form": PasswordConfirmForm(), "has_password": user.has_usable_password()}, status=status)


@login_required
def security(request):
    return _page(request)


@login_required
def totp_add(request):
    form, status, codes = code_submission(request,
                                          lambda code: totp_enrol_confirm(user=request.user, code=code))
    if codes is not NOT_ACCEPTED:
        messages.success(request, _("Your authenticator app is set up."))
        if codes:
            return render(request, "signin/recovery_codes.html", {"codes": codes, "next": "/accounts/security/"})
        return redirect("accounts:security")
    device = totp_pending(request.user) if request.method == "POST" else None
    device = device or totp_enrol_start(user=request.user)
    return render(request, "signin/setup.html", {"form": form, "secret": totp_secret_text(device),
                                                 "qr_url": "accounts:security_totp_qr", "adding": True},
                  status=status)


@login_required
def totp_qr(request):
    return qr_response(totp_pending(request.user))


@login_required
@require_POST
def recovery_codes_new(request):
    if not totp_devices(request.user).exists() and not request.user.passkeys.exists():
        messages.error(request, _("Set up an authenticator app or a passkey first."))
        return redirect("accounts:security")
    codes = recovery_codes_create(user=request.user)
    return render(request, "signin/recovery_codes.html", {"codes": codes, "next": "/accounts/security/"})


@login_required
@require_POST
def device_remove(request, kind: str, device_id: int):
    form = PasswordConfirmForm(request.POST)
    if not form.is_valid() or kind not in (SecondFactor.TOTP, SecondFactor.PASSKEY):
        messages.error(request, _("Enter your password to remove a second factor."))
        return redirect("accounts:security")
    try:
        mfa_device_remove(user=request.user, kind=kind, device_id=device_id, password=form.cleaned_data["password"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The second factor was removed."))
    return redirect("accounts:security")


@login_required
@require_POST
def passkey_options(request):
    options, challenge = passkey_registration_options(user=request.user, rp=relying_party(request))
    request.session[PASSKEY_CHALLENGE] = challenge.hex()
    return HttpResponse(options, content_type="application/json")


@login_required
@require_POST
def passkey_add(request):
    challenge = request.session.pop(PASSKEY_CHALLENGE, None)
    if not challenge:
        return JsonResponse({"error": _("Start again.")}, status=400)
    name = unquote(request.headers.get("X-Passkey-Name", ""))
    try:
        passkey_register(user=request.user, rp=relying_party(request), challenge=bytes.fromhex(challenge),
                         credential=request.body.decode("utf-8", "replace"), name=name)
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    messages.success(request, _("Your passkey was added."))
    codes = recovery_codes_create(user=request.user) if recovery_codes_left(request.user) == 0 else []
    if codes:
        request.session["security_new_codes"] = codes
        return JsonResponse({"redirect": "/accounts/security/recovery-codes/"})
    return JsonResponse({"redirect": "/accounts/security/"})


@login_required
def recovery_codes_show(request):
    codes = request.session.pop("security_new_codes", None)
    if not codes:
        return redirect("accounts:security")
    return render(request, "signin/recovery_codes.html", {"codes": codes, "next": "/accounts/security/"})


@login_required
@require_POST
def session_end_view(request, session_id: int):
    try:
        session_end(actor=Actor.for_user(request.user), user=request.user, session_id=session_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The session was ended."))
    return redirect("accounts:security")


@login_required
@require_POST
def password_change_view(request):
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            ended = password_change(request, user=request.user, old_password=form.cleaned_data["old_password"],
                                    new_password=form.cleaned_data["new_password"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your password was changed. Other sessions ended: %(n)d.") % {"n": ended})
            return redirect("accounts:security")
    return _page(request, password_form=form, status=400)

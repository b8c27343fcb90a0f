"""Sign-up, email verification, magic-link log-in and password reset (log-in itself is accounts:login)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from atende.accounts.selectors import active_user
from atende.core.exceptions import DomainError
from atende.core.throttle import client_ip, rates, throttle_hit
from atende.kb.selectors import current_language
from atende.portal.forms import EmailForm, PortalPasswordResetForm, SignUpForm
from atende.portal.services import (
    customer_email_mark_verified,
    customer_email_verify,
    customer_sign_up,
    magic_link_consume,
    magic_link_send,
    verification_resend,
)
from atende.portal.tokens import InvalidToken, read_magic_token
from atende.signin.flow import signin_continue
from atende.signin.services.passwords import password_reset_completed

FIELD_FOR_DETAIL = {"email": "email", "password": "password"}


def _auth_email_gate(request, email: str):
    """(may an auth email go to ``email`` now?, a 429 page when this network has asked too often).

    Per address: one a minute and a daily cap, counted whether or not the address has an account, and answered
    with the same page either way, so the limit reveals nothing about who has one."""
    per_ip = throttle_hit("auth_email.ip", client_ip(request), rates("auth_email.ip"))
    if not per_ip.allowed:
        minutes = max(1, round(per_ip.retry_after / 60))
        return False, render(request, "portal/auth/too_many.html", {"minutes": minutes}, status=429)
    per_address = throttle_hit("auth_email.address", (email or "").strip().lower(), rates("auth_email.address"))
    return per_address.allowed, None


def _invalid_link(request, exc: DomainError):
    return render(request, "portal/auth/invalid_link.html", {"message": exc.message}, status=400)


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        allowed, refusal = _auth_email_gate(request, data["email"])
        if refusal is not None:
            return refusal
        try:
            customer_sign_up(email=data["email"], password=data["password"], name=data["name"],
                             locale=current_language())
        except DomainError as exc:
            field = next((FIELD_FOR_DETAIL[k] for k in (exc.details or {}) if k in FIELD_FOR_DETAIL), None)
            form.add_error(field, exc.message)
        else:
            request.session["portal_signup_email"] = data["email"]
            return redirect("accounts:signup_done")
    return render(request, "portal/auth/signup.html", {"form": form})


def signup_done(request):
    return render(request, "portal/auth/check_email.html", {
        "email": request.session.get("portal_signup_email", ""), "purpose": "verify"})


def verify_email(request, token: str):
    try:
        user, newly = customer_email_verify(token=token)
    except InvalidToken as exc:
        return _invalid_link(request, exc)
    if not newly:
        messages.info(request, _("Your email address was already verified."))
        return redirect("home" if request.user.is_authenticated else "accounts:login")
    messages.success(request, _("Thank you — your email address is verified."))
    if not request.user.is_authenticated or request.user.pk == user.pk:
        return signin_continue(request, user=user, method="email_verification", next_url="/portal/")
    return redirect("portal:home")


@login_required
def verify_needed(request):
    if request.user.email_verified or not request.user.is_customer:
        return redirect("portal:home")
    if request.method == "POST":
        allowed, refusal = _auth_email_gate(request, request.user.email)
        if refusal is not None:
            return refusal
        if allowed:
            verification_resend(user=request.user)
        messages.success(request, _("We sent a new verification link to %(email)s.") % {"email": request.user.email})
        return redirect("portal:verify_needed")
    return render(request, "portal/auth/verify_needed.html")


def magic_link_request(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, refusal = _auth_email_gate(request, form.cleaned_data["email"])
        if refusal is not None:
            return refusal
        if allowed:
            magic_link_send(email=form.cleaned_data["email"])
        request.session["portal_magic_email"] = form.cleaned_data["email"]
        return redirect("accounts:magic_link_sent")
    return render(request, "portal/auth/magic_link.html", {"form": form})


def magic_link_sent(request):
    return render(request, "portal/auth/check_email.html", {
        "email": request.session.get("portal_magic_email", ""), "purpose": "magic"})


def magic_link_login(request, token: str):
    """GET shows a button (mail scanners that follow links must not use up the one-time link); POST logs in."""
    if request.method == "POST":
        try:
            user = magic_link_consume(token=token)
        except InvalidToken as exc:
            return _invalid_link(request, exc)
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = str(reverse_lazy("portal:home"))
        return signin_continue(request, user=user, method="magic_link", next_url=next_url)
    try:
        data = read_magic_token(token)
    except InvalidToken as exc:
        return _invalid_link(request, exc)
    user = active_user(data.user_id)
    if user is None:
        return _invalid_link(request, InvalidToken(_("This log-in link is not valid any more.")))
    return render(request, "portal/auth/magic_link_confirm.html", {"email": user.email,
                                                                   "next": request.GET.get("next", "")})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/auth/password_reset.html"
    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        allowed, refusal = _auth_email_gate(self.request, form.cleaned_data["email"])
        if refusal is not None:
            return refusal
        if not allowed:  # the same page as when the email is sent
            return redirect(self.success_url)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/auth/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/auth/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        customer_email_mark_verified(user=form.user)  # the reset link proved the mailbox
        password_reset_completed(user=form.user)  # and every session of the account ends
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/auth/password_reset_complete.html"

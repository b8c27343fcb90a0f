"""Sign-up, email verification, magic-link log-in and password reset (log-in itself is accounts:login)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.core.exceptions import DomainError
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

FIELD_FOR_DETAIL = {"email": "email", "password": "password"}


def _invalid_link(request, exc: DomainError):
    return render(request, "portal/auth/invalid_link.html", {"message": exc.message}, status=400)


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
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
    if not request.user.is_authenticated or request.user.pk == user.pk:
        login(request, user)
    messages.success(request, _("Thank you — your email address is verified."))
    return redirect("portal:home")


@login_required
def verify_needed(request):
    if request.user.email_verified or not request.user.is_customer:
        return redirect("portal:home")
    if request.method == "POST":
        verification_resend(user=request.user)
        messages.success(request, _("We sent a new verification link to %(email)s.") % {"email": request.user.email})
        return redirect("portal:verify_needed")
    return render(request, "portal/auth/verify_needed.html")


def magic_link_request(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
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
        login(request, user)
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = reverse_lazy("portal:home")
        return redirect(next_url)
    try:
        data = read_magic_token(token)
    except InvalidToken as exc:
        return _invalid_link(request, exc)
    user = User.objects.filter(pk=data.user_id, is_active=True).first()
    if user is None:
        return _invalid_link(request, InvalidToken(_("This log-in link is not valid any more.")))
    return render(request, "portal/auth/magic_link_confirm.html", {"email": user.email,
                                                                   "next": request.GET.get("next", "")})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/auth/password_reset.html"
    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/auth/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/auth/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        customer_email_mark_verified(user=form.user)  # the reset link proved the mailbox
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/auth/password_reset_complete.html"

"""The admin's branding page (name, logo, colours), and the logo file itself."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.core.models import SiteConfiguration
from atende.core.selectors import site_configuration
from atende.portal.forms import BrandingForm
from atende.portal.services import branding_update


def branding_settings(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_admin:
        raise Http404
    config = site_configuration() or SiteConfiguration()
    form = BrandingForm(request.POST or None, request.FILES or None, initial={
        "name": config.name, "primary_color": config.primary_color, "accent_color": config.accent_color,
        "support_email": config.support_email})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        logo, remove = data.pop("logo"), data.pop("remove_logo")
        if logo:
            data["logo"] = logo
        elif remove:
            data["logo"] = ""
        try:
            branding_update(actor=Actor.for_user(request.user), **data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Branding saved."))
            return redirect("portal:branding")
    return render(request, "portal/branding.html", {"form": form, "config": config})


def branding_logo(request):
    """The logo is public (it is on every page, logged in or not)."""
    config = site_configuration()
    if config is None or not config.logo:
        raise Http404
    try:
        handle = config.logo.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404
    response = FileResponse(handle, content_type=None)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=300"
    return response

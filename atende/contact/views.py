"""The public contact form at /contact/, the same form for an <iframe> at /contact/embed/ (framed only by the
origins the admin allowed), and the script (static contact/embed.js) that inserts that iframe in any page."""

from __future__ import annotations

import logging

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from atende.contact.choices import ContactFormMode
from atende.contact.forms import ContactForm
from atende.contact.guards import Refused, form_token_check, form_token_issue, throttle_contact
from atende.contact.models import ContactFormSettings
from atende.contact.services import contact_request_submit
from atende.core.csp import frame_ancestors
from atende.core.exceptions import DomainError
from atende.core.throttle import Throttled, client_ip
from atende.kb.selectors import current_language
from atende.portal.selectors import ticket_form_for_customers
from atende.portal.views._common import session_key

logger = logging.getLogger(__name__)
FIELD_FOR_DETAIL = {"subject": "subject", "body": "description", "email": "email", "phone": "phone"}


def _place_error(form: ContactForm, exc: DomainError) -> None:
    details = exc.details if isinstance(exc.details, dict) else {}
    for key in details:
        name = FIELD_FOR_DETAIL.get(key, f"cf_{key}")
        if name in form.fields:
            form.add_error(name, exc.message if details[key] != "required" else _("This field is required."))
            return
    form.add_error(None, exc.message)


def _contact(request, *, embedded: bool):
    config = ContactFormSettings.load()
    if config.mode == ContactFormMode.OFF:
        return render(request, "contact/unavailable.html", {"embedded": embedded}, status=404)
    if config.mode == ContactFormMode.ACCOUNT:
        if embedded:
            return render(request, "contact/unavailable.html", {"embedded": True, "portal": True})
        return redirect("portal:request_new")
    ticket_form = config.ticket_form or ticket_form_for_customers(None)
    accept_phone = config.accept_phone and config.mode == ContactFormMode.OPEN
    template = "contact/embed.html" if embedded else "contact/contact.html"
    form = ContactForm(request.POST or None, request.FILES or None, ticket_form=ticket_form,
                       accept_phone=accept_phone)
    status = 200
    if request.method == "POST":
        if form.is_bot:
            logger.info("contact form: honeypot filled from %s", client_ip(request))
            form.add_error(None, _("Your request could not be sent. Please try again, or write to us by email."))
            status = 400
        else:
            try:
                form_token_check(request.POST.get("form_token", ""))
                if form.is_valid():
                    data = form.cleaned_data
                    throttle_contact(ip=client_ip(request),
                                     address=(data.get("email") or data.get("phone") or "").strip().lower())
                    result = contact_request_submit(
                        name=data["name"], email=data.get("email") or "", phone=data.get("phone") or "",
                        subject=data["subject"], description=data["description"], form=ticket_form,
                        custom_fields=form.custom_field_values(), attachments=data["attachments"],
                        language=current_language(), session_key=session_key(request),
                        origin=request.headers.get("Origin", "") or request.headers.get("Referer", ""))
                    return render(request, "contact/submitted.html" if not embedded else "contact/embed_submitted.html",
                                  {"result": result, "embedded": embedded}, status=201)
                status = 400
            except Throttled as exc:
                form.add_error(None, exc.message)
                status = 429
            except Refused as exc:
                form.add_error(None, exc.message)
                status = 400
            except DomainError as exc:
                _place_error(form, exc)
                status = exc.status if 400 <= exc.status < 500 else 400
    form.initial["form_token"] = form_token_issue()
    if form.is_bound:  # a fresh token for the next try (the one just sent was used up or refused)
        form.data = form.data.copy()
        form.data["form_token"] = form.initial["form_token"]
    return render(request, template, {"form": form, "ticket_form": ticket_form, "embedded": embedded},
                  status=status)


@csrf_exempt  # the signed one-time form token replaces the CSRF cookie (not sent to framed third-party pages)
def contact_form(request):
    return _contact(request, embedded=False)


def _embed_framers() -> list[str]:
    """The admin's allowed origins (and the desk itself, for its own preview); nobody when none is allowed."""
    origins = ContactFormSettings.load().origins()
    return ["'self'", *origins] if origins else []


@csrf_exempt
@frame_ancestors(lambda request: _embed_framers())
def contact_embed(request):
    return _contact(request, embedded=True)

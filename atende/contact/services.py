"""A request from the public contact form: find or create the customer by the address (or phone) given, open the
ticket at once through ``ticket_create``, and queue the acknowledgement (expected reply time, a log-in link to
follow the ticket; replying to it threads into the ticket)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import User
from atende.accounts.selectors import identity_is_verified
from atende.contact.choices import ContactFormMode
from atende.contact.models import ContactFormSettings
from atende.contact.selectors import expected_first_reply_minutes, expected_reply_text, no_target_text
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.email_channel.services import addresses
from atende.email_channel.services.outbound import mail_queue
from atende.kb.services import deflections_mark_submitted
from atende.portal.tokens import make_magic_token
from atende.tickets.choices import Channel
from atende.tickets.models import Ticket, TicketForm
from atende.tickets.services import IncomingFile, ticket_create

SOURCE = "contact_form"


@dataclass(frozen=True)
class ContactResult:
    ticket: Ticket
    customer: User
    expected_reply: str  # shown on the thank-you page and in the acknowledgement
    acknowledged_by_email: bool


def _language(language: str) -> str:
    return "pt-br" if (language or "").lower().startswith("pt") else "en"


@transaction.atomic
def contact_request_submit(*, name: str, email: str = "", phone: str = "", subject: str, description: str,
                           form: TicketForm | None = None, custom_fields: dict[str, Any] | None = None,
                           attachments: list[IncomingFile] = (), language: str = "", session_key: str = "",
                           origin: str = "") -> ContactResult:
    """Everything or nothing: the customer (by identity), the ticket, the deflection bookkeeping and the queued
    acknowledgement commit together."""
    config = ContactFormSettings.load()
    if config.mode in (ContactFormMode.OFF, ContactFormMode.ACCOUNT):
        raise PermissionDenied(_("The contact form is not available."), code="contact_form_off")
    email, phone = (email or "").strip(), (phone or "").strip()
    if email:
        kind, value = IdentityKind.EMAIL, email
    elif phone and config.accept_phone and config.mode == ContactFormMode.OPEN:
        kind, value = IdentityKind.PHONE, phone
    else:
        raise ValidationError(_("Give an email address so that we can answer you."), code="address_required",
                              details={"email": "required"})
    if config.mode == ContactFormMode.VERIFIED and not identity_is_verified(kind=kind, value=value):
        raise PermissionDenied(
            _("This form only takes requests from verified addresses. Log in to the portal (we can email you a "
              "log-in link), or write to us by email."), code="address_not_verified", details={"email": "unverified"})
    customer = customer_find_or_create(kind=kind, value=value, name=name, locale=_language(language))
    if customer.is_staff_member or not customer.is_active:
        raise ValidationError(_("This address cannot be used on the contact form."), code="address_unusable",
                              details={"email": "unusable"})
    ticket = ticket_create(
        actor=Actor.for_user(customer), requester=customer, subject=subject, body_text=description,
        channel=Channel.WEB, form=form, custom_fields=custom_fields or {}, attachments=list(attachments),
        language=_language(language),
        message_metadata={"source": SOURCE, "origin": origin[:200], "acknowledged": bool(customer.email)},
    )
    deflections_mark_submitted(session_key=session_key)
    lang = _language(language)
    expected = expected_reply_text(expected_first_reply_minutes(ticket), language=lang) or \
        no_target_text(language=lang)
    acknowledged = bool(customer.email) and _acknowledge(ticket=ticket, customer=customer, expected=expected,
                                                         language=lang)
    return ContactResult(ticket=ticket, customer=customer, expected_reply=expected, acknowledged_by_email=acknowledged)


def follow_url(ticket: Ticket, customer: User) -> str:
    """A one-time log-in link (the portal's magic link) that opens the ticket."""
    login = reverse("accounts:magic_link_login", args=[make_magic_token(customer)])
    target = reverse("portal:ticket", kwargs={"number": ticket.number})
    return f"{settings.SITE_URL}{login}?next={target}"


def _acknowledge(*, ticket: Ticket, customer: User, expected: str, language: str) -> bool:
    mailbox = addresses.mailbox_for_ticket(ticket)
    context = {"ticket": ticket, "customer": customer, "expected_reply": expected,
               "follow_url": follow_url(ticket, customer),
               "magic_link_url": f"{settings.SITE_URL}{reverse('accounts:magic_link')}"}
    with translation.override(language):
        subject = _("We received your request: %(subject)s") % {"subject": ticket.subject}
        body = render_to_string("contact/acknowledgement.txt", context)
    queued = mail_queue(
        to=[customer.email], subject=addresses.subject_with_tag(ticket, subject), body_text=body,
        from_email=mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL,
        reply_to=addresses.ticket_address(ticket, mailbox), ticket=ticket, kind="acknowledgement",
        dedupe_key=f"contact-ack:{ticket.pk}")
    return queued is not None

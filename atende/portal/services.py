"""Portal writes: sign-up with email verification and magic-link log-in (their emails are mail deliveries
queued in the same transaction by ``mail_queue``: they leave after it commits, are retried with backoff, and skip
undeliverable addresses), the admin's branding change, and submitting a request."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.accounts.choices import IdentityKind, Role
from atende.accounts.models import User
from atende.accounts.selectors import identity_owner
from atende.accounts.services import normalize_email, user_create
from atende.audit.services import audit_settings_change, model_snapshot
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.core.models import SiteConfiguration
from atende.core.selectors import site_branding
from atende.core.services import site_configuration_update
from atende.email_channel.services import mail_queue
from atende.kb.services import deflections_mark_submitted
from atende.outbound.models import Delivery
from atende.portal.tokens import (
    InvalidToken,
    magic_token_matches,
    make_magic_token,
    make_verification_token,
    read_magic_token,
    read_verification_token,
)
from atende.tickets.models import Ticket, TicketForm
from atende.tickets.services import IncomingFile, ticket_create

# Sign-up with email verification, and magic-link log-in. Their emails are mail deliveries queued in the same
# transaction (``mail_queue``): they leave after it commits, are retried with backoff, and skip undeliverable
# addresses.

def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


AUTH_EMAIL_KINDS = {"verify_email", "magic_link", "password_reset"}


@transaction.atomic
def auth_email_enqueue(*, kind: str, user: User, url: str) -> Delivery | None:
    """Queue an auth email in the user's language, sent once the current transaction commits. The key is the
    link, so queuing the same link twice mails it once; the body (the link) is removed from the stored delivery
    once sent. None for an inactive user, an undeliverable address or a repeat."""
    if kind not in AUTH_EMAIL_KINDS:
        raise ValueError(f"unknown auth email {kind!r}")
    if not user.is_active or not user.email:
        return None
    with translation.override(user.locale or settings.LANGUAGE_CODE):
        context = {"user": user, "url": url, "site_name": site_branding()["name"],
                   "magic_minutes": settings.PORTAL_MAGIC_LINK_MAX_AGE // 60,
                   "verify_days": settings.PORTAL_VERIFY_MAX_AGE // 86400}
        subject = " ".join(render_to_string(f"portal/email/{kind}_subject.txt", context).split())
        body = render_to_string(f"portal/email/{kind}_body.txt", context)
    link = hashlib.sha256(url.encode()).hexdigest()[:32]
    return mail_queue(to=[user.email], subject=subject, body_text=body, kind=f"auth.{kind}", source="portal",
                      dedupe_key=f"portal:{kind}:{user.pk}:{link}", sensitive=True)


def verification_url(user: User) -> str:
    return absolute(reverse("accounts:verify_email", args=[make_verification_token(user)]))


@transaction.atomic
def customer_sign_up(*, email: str, password: str, name: str = "", locale: str = "") -> User:
    """A new customer account (unverified) and the verification email."""
    email = normalize_email(email)
    if identity_owner(kind=IdentityKind.EMAIL, value=email) is not None:
        raise ValidationError(
            _("An account with this email address already exists. Log in, or ask for a log-in link by email."),
            code="email_taken", details={"email": "taken"})
    probe = User(email=email, name=name)
    try:
        validate_password(password, user=probe)
    except DjangoValidationError as exc:
        raise ValidationError(_(" ").join(exc.messages), code="weak_password", details={"password": exc.messages})
    user = user_create(email=email, password=password, name=name.strip(), role=Role.CUSTOMER, locale=locale,
                       email_verified=False)
    auth_email_enqueue(kind="verify_email", user=user, url=verification_url(user))
    return user


@transaction.atomic
def verification_resend(*, user: User) -> bool:
    if user.email_verified:
        return False
    auth_email_enqueue(kind="verify_email", user=user, url=verification_url(user))
    return True


@transaction.atomic
def customer_email_verify(*, token: str) -> tuple[User, bool]:
    """Mark the address verified. Returns (user, newly_verified); a second click changes nothing."""
    data = read_verification_token(token)
    user = User.objects.select_for_update().filter(pk=data.user_id, is_active=True).first()
    if user is None or user.email.lower() != data.value.lower():
        raise InvalidToken(_("This verification link is not valid any more."))
    if user.email_verified:
        return user, False
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return user, True


@transaction.atomic
def customer_email_mark_verified(*, user: User) -> None:
    """Proving control of the mailbox another way (a reset link) verifies the address too."""
    if not user.email_verified:
        User.objects.filter(pk=user.pk).update(email_verified=True)
        user.email_verified = True


@transaction.atomic
def magic_link_send(*, email: str) -> bool:
    """Email a one-time log-in link to an active customer. Unknown addresses get nothing, silently (the
    page says the same either way, so nobody can probe which addresses have accounts)."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return False
    user = User.objects.filter(email__iexact=email, is_active=True, role=Role.CUSTOMER).first()
    if user is None:
        return False
    url = absolute(reverse("accounts:magic_link_login", args=[make_magic_token(user)]))
    auth_email_enqueue(kind="magic_link", user=user, url=url)
    return True


@transaction.atomic
def magic_link_consume(*, token: str) -> User:
    """Check a magic link and use it up (``last_login`` moves, so the token no longer matches).

    Opening the link proves the address, so it is marked verified. The caller logs the user in.
    """
    data = read_magic_token(token)
    user = User.objects.select_for_update().filter(pk=data.user_id, is_active=True, role=Role.CUSTOMER).first()
    if user is None or not magic_token_matches(user, data):
        raise InvalidToken(_("This log-in link has already been used. Ask for a new one."), code="token_used")
    user.last_login = timezone.now()
    user.email_verified = True
    user.save(update_fields=["last_login", "email_verified"])
    return user


# The admin's branding change: saved by core, recorded in the audit log with what changed.

@transaction.atomic
def branding_update(*, actor: Actor, **fields) -> SiteConfiguration:
    before = model_snapshot(SiteConfiguration.load())
    config = site_configuration_update(actor=actor, **fields)
    audit_settings_change(actor=actor, target=config, target_type="branding", operation="updated", before=before,
                          after=model_snapshot(config))
    return config


# Submitting a request from the portal.

@transaction.atomic
def portal_request_submit(*, customer: User, subject: str, description: str, form: TicketForm | None = None,
                          custom_fields: dict[str, Any] | None = None, attachments: list[IncomingFile] = (),
                          language: str = "", session_key: str = "") -> Ticket:
    """Create the ticket (channel ``web``) and note that this session's suggested articles did not deflect it."""
    ticket = ticket_create(
        actor=Actor.for_user(customer), requester=customer, subject=subject, body_text=description,
        channel="web", form=form, custom_fields=custom_fields or {}, attachments=list(attachments),
        language=language,
    )
    deflections_mark_submitted(session_key=session_key)
    return ticket

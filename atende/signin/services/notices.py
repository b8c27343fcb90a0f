"""Security notices by email (an account locked after failed sign-ins), queued through the email channel's
``mail_queue`` in the caller's transaction: retried with backoff, logged per attempt, never sent to an address that
bounced for good, and not sent at all when the change that caused them rolls back."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from atende.accounts.models import User
from atende.core.selectors import site_branding
from atende.email_channel.services import mail_queue
from atende.outbound.models import Delivery

SECURITY_EMAIL_KINDS = {"signin_locked"}


def security_email_queue(*, kind: str, user: User, data: dict, key: str = "") -> Delivery | None:
    """Queue one security notice in the user's language. ``key`` names the occurrence (e.g. the audit entry of
    the lock), so the same occurrence queued twice mails once. None when nothing was queued."""
    if kind not in SECURITY_EMAIL_KINDS:
        raise ValueError(f"unknown security email {kind!r}")
    if not user.is_active or not user.email:
        return None
    with translation.override(user.locale or settings.LANGUAGE_CODE):
        context = {"user": user, "data": data, "site_name": site_branding()["name"], "when": timezone.now(),
                   "site_url": settings.SITE_URL}
        subject = " ".join(render_to_string(f"signin/email/{kind}_subject.txt", context).split())
        body = render_to_string(f"signin/email/{kind}_body.txt", context)
    return mail_queue(to=[user.email], subject=subject, body_text=body, kind=f"security.{kind}",
                      source="signin", dedupe_key=f"signin:{kind}:{key}" if key else "")

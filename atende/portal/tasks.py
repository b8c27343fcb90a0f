"""Auth emails (verification, magic link, password reset), sent by the worker after the request commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from atende.accounts.models import User
from atende.core.selectors import site_branding

AUTH_EMAIL_KINDS = {"verify_email", "magic_link", "password_reset"}


@task(queue_name="mail")
def auth_email_send_task(kind: str, user_id: int, url: str) -> bool:
    """Render and send one auth email in the user's language. Returns False for a vanished user."""
    if kind not in AUTH_EMAIL_KINDS:
        raise ValueError(f"unknown auth email {kind!r}")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    with translation.override(user.locale or settings.LANGUAGE_CODE):
        context = {"user": user, "url": url, "site_name": site_branding()["name"],
                   "magic_minutes": settings.PORTAL_MAGIC_LINK_MAX_AGE // 60,
                   "verify_days": settings.PORTAL_VERIFY_MAX_AGE // 86400}
        subject = " ".join(render_to_string(f"portal/email/{kind}_subject.txt", context).split())
        body = render_to_string(f"portal/email/{kind}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True

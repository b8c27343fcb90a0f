"""Security notices by email (an account locked after failed sign-ins), sent by the worker after commit."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task

from atende.accounts.models import User
from atende.core.selectors import site_branding

SECURITY_EMAIL_KINDS = {"signin_locked"}


def enqueue_security_email(*, kind: str, user: User, data: dict) -> None:
    user_id = user.pk
    transaction.on_commit(lambda: security_email_send_task.enqueue(kind, user_id, data))


@task(queue_name="mail")
def security_email_send_task(kind: str, user_id: int, data: dict) -> bool:
    if kind not in SECURITY_EMAIL_KINDS:
        raise ValueError(f"unknown security email {kind!r}")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    with translation.override(user.locale or settings.LANGUAGE_CODE):
        context = {"user": user, "data": data, "site_name": site_branding()["name"], "when": timezone.now(),
                   "site_url": settings.SITE_URL}
        subject = " ".join(render_to_string(f"signin/email/{kind}_subject.txt", context).split())
        body = render_to_string(f"signin/email/{kind}_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True

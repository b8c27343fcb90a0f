"""Worker tasks of sign-in. Security notices are queued as mail deliveries (``services.notices``); the task
below only serves notices queued by a version before that, and can go in the next release."""

from django_tasks import task

from atende.accounts.models import User
from atende.signin.services.notices import security_email_queue


@task(queue_name="mail")
def security_email_send_task(kind: str, user_id: int, data: dict) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return security_email_queue(kind=kind, user=user, data=data) is not None

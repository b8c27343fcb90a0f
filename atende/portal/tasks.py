"""Worker tasks of the portal. Auth emails are queued as mail deliveries (``services.auth_email_enqueue``);
the task below only serves emails queued by a version before that, and can go in the next release."""

from django_tasks import task

from atende.accounts.models import User
from atende.portal.services import auth_email_enqueue


@task(queue_name="mail")
def auth_email_send_task(kind: str, user_id: int, url: str) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return auth_email_enqueue(kind=kind, user=user, url=url) is not None

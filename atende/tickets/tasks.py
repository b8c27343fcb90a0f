from django_tasks import task

from atende.tickets.services import tickets_autoclose


@task()
def tickets_autoclose_task() -> int:
    """Scheduled every minute: close solved tickets past the configured delay."""
    return tickets_autoclose()

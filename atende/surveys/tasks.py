from django_tasks import task

from atende.surveys.services import survey_request_create
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket


@task()
def survey_on_status_changed_task(payload: dict) -> bool:
    """STATUS_CHANGED subscriber: when the ticket is (still) solved, make sure a survey is waiting."""
    if (payload.get("data") or {}).get("new") != TicketStatus.SOLVED:
        return False
    ticket = Ticket.objects.filter(pk=payload.get("ticket_id")).first()
    if ticket is None:
        return False
    return survey_request_create(ticket=ticket) is not None

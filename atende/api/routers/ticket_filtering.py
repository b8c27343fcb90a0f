"""The ticket list's query parameters, mapped onto the console's filters and full-text search."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from atende.api.routers.ticket_schemas import TicketOrder
from atende.tickets.models import Ticket
from atende.tickets.selectors import ticket_list_for_user


class TicketListQuery(Schema):
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    size: int = Field(50, ge=1, le=100)
    order: TicketOrder = "-updated_at"
    fields: str | None = None
    expand: str | None = None
    external_id: str | None = Field(None, max_length=200, description="Tickets with this external id.")


def filtered_tickets(request: HttpRequest, query: TicketListQuery) -> tuple[QuerySet[Ticket], str]:
    qs = ticket_list_for_user(user=request.user)
    if query.external_id:
        qs = qs.filter(external_id=query.external_id)
    return qs, query.order

"""The ticket list's query parameters, mapped onto the console's filters (``tickets.filters``) and full-text
search (``tickets.search``). This module only translates parameters; it filters nothing itself."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from atende.api.listing import page_of
from atende.api.routers.ticket_schemas import TicketOrder, ticket_data
from atende.core.exceptions import ValidationError
from atende.tickets.filters import TicketFilters, apply_ticket_filters, ticket_filter_branches
from atende.tickets.models import HAS_EXTERNAL_ID
from atende.tickets.search import search_tickets
from atende.tickets.selectors import ticket_list_for_user, tickets_in_full

LIST = "Comma-separated alternatives."
_FILTER_PARAMS = ("status", "team", "assignee", "requester", "organization", "category", "tags", "exclude_tags",
                  "priority", "type", "channel", "created_from", "created_to", "updated_from", "updated_to",
                  "created_within_days", "updated_within_days", "solved_within_days", "number", "has_sla_due")


class TicketListQuery(Schema):
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    size: int = Field(50, ge=1, le=100)
    order: TicketOrder = "-updated_at"
    fields: str | None = Field(None, description="Comma-separated fields to return (id is always included).")
    expand: str | None = Field(None, description="Embed related objects (requester, assignee, team, …).")
    q: str | None = Field(None, max_length=500, description=(
        "Full-text search with the console's qualifiers, e.g. `printer status:open tag:vip assignee:me`. "
        "Results are ranked; combine filters inside q rather than with the parameters below."))
    status: str | None = Field(None, description=f"{LIST} Statuses or groups: unsolved, active, paused, resolved.")
    team: str | None = Field(None, description=f"{LIST} Team ids, `none`, `mine`.")
    assignee: str | None = Field(None, description=f"{LIST} Agent ids, `me`, `none`.")
    requester: str | None = Field(None, description=f"{LIST} Customer ids or email addresses.")
    organization: str | None = Field(None, description=f"{LIST} Organisation ids or names.")
    category: str | None = Field(None, description=f"{LIST} Category ids (subcategories included).")
    tags: str | None = Field(None, description="Comma-separated tags that must all be present.")
    exclude_tags: str | None = Field(None, description="Comma-separated tags that must all be absent.")
    priority: str | None = Field(None, description=LIST)
    type: str | None = Field(None, description=LIST)
    channel: str | None = Field(None, description=LIST)
    created_from: str | None = Field(None, description="ISO 8601 date or time, inclusive.")
    created_to: str | None = Field(None, description="ISO 8601 date or time, exclusive (a date includes the day).")
    updated_from: str | None = None
    updated_to: str | None = None
    created_within_days: int | None = Field(None, ge=0, le=36500)
    updated_within_days: int | None = Field(None, ge=0, le=36500)
    solved_within_days: int | None = Field(None, ge=0, le=36500)
    number: str | None = Field(None, description=f"{LIST} Ticket numbers.")
    has_sla_due: bool | None = None
    spam: Literal["false", "true", "any"] = Field("false", description="Spam is hidden unless asked for.")
    custom_field: list[str] = Field([], description="`key:value`, repeatable: custom field values to match.")
    external_id: str | None = Field(None, max_length=200, description="Tickets with this external id.")


def filters_from_query(query: TicketListQuery) -> TicketFilters:
    data: dict[str, Any] = {name: getattr(query, name) for name in _FILTER_PARAMS
                            if getattr(query, name) not in (None, "")}
    if query.spam != "false":
        data["spam"] = None if query.spam == "any" else True
    custom: dict[str, str] = {}
    for item in query.custom_field:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise ValidationError("custom_field takes key:value.", code="invalid_filter",
                                  details={"filter": "custom_field"})
        custom[key.strip()] = value
    if custom:
        data["custom_fields"] = custom
    return TicketFilters.from_dict(data)


def ticket_list_page(request: HttpRequest, query: TicketListQuery, *, fields, expand) -> dict[str, Any]:
    user = request.user
    filters = filters_from_query(query)
    if query.q:
        if not filters.is_empty() or query.external_id:
            raise ValidationError("With q, write filters as qualifiers inside q (e.g. status:open).",
                                  code="invalid_filter", details={"filter": "q"})
        page = search_tickets(user=user, query=query.q, cursor=query.cursor, size=query.size)
        # Search hits carry only the columns lists show; the API returns every field, so the page's tickets are
        # read again in full in one query rather than one query per deferred field and ticket.
        full = tickets_in_full(user=user, ticket_ids=[hit.ticket.pk for hit in page.items], related=expand)
        items = []
        for hit in page.items:
            ticket = full[hit.ticket.pk]  # the hits are the user's visible tickets already
            data = ticket_data(ticket, request=request, fields=fields, expand=expand,
                               tags=sorted(tag.name for tag in ticket.tags.all()))
            if hit.snippet_html:
                data["search_snippet"] = str(hit.snippet_html)
            items.append(data)
        return {"items": items, "next_cursor": page.next_cursor, "has_next": page.has_next}
    branches, rest = ticket_filter_branches(filters, user=user, order=query.order)
    qs = apply_ticket_filters(ticket_list_for_user(user=user), rest, user=user)
    if query.external_id:
        qs = qs.filter(HAS_EXTERNAL_ID, external_id=query.external_id)
    qs = qs.select_related(*expand).prefetch_related("tags")
    return page_of(qs, order=query.order, cursor=query.cursor, size=query.size,
                   branches=branches,
                   serialize=lambda t: ticket_data(t, request=request, fields=fields, expand=expand,
                                                   tags=sorted(tag.name for tag in t.tags.all())))

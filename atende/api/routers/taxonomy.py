"""Configuration objects clients need to fill in tickets: tags, categories and custom fields."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.api.listing import page_of
from atende.api.schemas import responses
from atende.api.selectors import require_staff
from atende.tickets.selectors import active_category_list, custom_field_list_for_user, tag_list_with_counts

router = Router(tags=["configuration"])


class TagOut(Schema):
    id: int
    name: str
    ticket_count: int


class TagPageOut(Schema):
    items: list[TagOut]
    next_cursor: str | None
    has_next: bool


class CategoryOut(Schema):
    id: int
    name: str
    full_name: str
    parent_id: int | None
    default_team_id: int | None


class CustomFieldOptionOut(Schema):
    value: str = Field(description="What ticket ``custom_fields`` store and filters match.")
    label: str = Field(description="What people see, in the request's language.")


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    kind: str
    choices: list[Any]
    options: list[CustomFieldOptionOut] = Field(description="Dropdown choices with their labels.")
    required_to_solve: bool
    customer_visible: bool
    help_text: str


class TagQuery(Schema):
    cursor: str | None = None
    size: int = Field(100, ge=1, le=100)
    q: str | None = Field(None, max_length=64)


@router.get("/tags", response=responses(TagPageOut), summary="List tags")
def tag_list(request: HttpRequest, query: Query[TagQuery]):
    require_staff(request.user)
    qs = tag_list_with_counts()
    if query.q:
        qs = qs.filter(name__icontains=query.q)
    return page_of(qs, order="name", cursor=query.cursor, size=query.size,
                   serialize=lambda t: {"id": t.pk, "name": t.name, "ticket_count": t.ticket_count})


@router.get("/categories", response=responses(list[CategoryOut]), summary="List categories")
def category_list(request: HttpRequest):
    """Active categories (a small tree: ``parent_id`` links a child to its parent)."""
    categories = active_category_list()
    return [{"id": c.pk, "name": c.name, "full_name": str(c), "parent_id": c.parent_id,
             "default_team_id": c.default_team_id if request.user.is_staff_member else None} for c in categories]


@router.get("/custom-fields", response=responses(list[CustomFieldOut]), summary="List custom fields")
def custom_field_list(request: HttpRequest):
    """Field definitions for ``custom_fields`` on tickets; customers see only the fields shown to them."""
    fields = custom_field_list_for_user(user=request.user)
    return [{"id": f.pk, "key": f.key, "label": f.label, "kind": f.kind, "choices": f.choices,
             "options": [{"value": value, "label": label} for value, label in f.options()],
             "required_to_solve": f.required_to_solve, "customer_visible": f.customer_visible,
             "help_text": f.help_text} for f in fields]

"""Customers, agents, organisations and teams."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.accounts.choices import IdentityKind
from atende.accounts.selectors import access_customer, access_organization, customer_for_identity
from atende.accounts.services import customer_get_or_create, organization_create, user_update_profile
from atende.api.auth import require_admin
from atende.api.listing import page_of
from atende.api.schemas import InputSchema, Ref, responses
from atende.api.selectors import (
    access_agent,
    access_team,
    agent_list_for_user,
    customer_list_for_user,
    organization_list_for_user,
    require_staff,
    search_people,
    team_list_for_user,
)
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied

router = Router(tags=["people"])


class PersonOut(Schema):
    id: int
    email: str
    name: str
    role: str
    organization_id: int | None
    locale: str
    time_zone: str
    phone: str
    is_active: bool
    created_at: datetime.datetime = Field(..., description="When the person joined.")


class CustomerOut(PersonOut):
    notes: str = ""
    custom_fields: dict[str, Any] = {}


class AgentOut(PersonOut):
    availability: str
    restrict_to_teams: bool
    capacity: int | None
    teams: list[Ref]


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next_cursor: str | None
    has_next: bool


class AgentPageOut(Schema):
    items: list[AgentOut]
    next_cursor: str | None
    has_next: bool


class OrganizationOut(Schema):
    id: int
    name: str
    shares_tickets: bool
    domains: list[str]
    notes: str
    created_at: datetime.datetime


class OrganizationPageOut(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None
    has_next: bool


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    email: str
    assignment_strategy: str
    member_ids: list[int]
    created_at: datetime.datetime


class TeamPageOut(Schema):
    items: list[TeamOut]
    next_cursor: str | None
    has_next: bool


class PeopleQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)
    q: str | None = Field(None, max_length=200, description="Matches name or email.")
    organization_id: int | None = None


class PageQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)


class CustomerCreateIn(InputSchema):
    email: str = Field(..., max_length=254)
    name: str = Field("", max_length=200)
    locale: str = Field("", max_length=10)


class CustomerUpdateIn(InputSchema):
    name: str | None = Field(None, max_length=200)
    locale: str | None = Field(None, max_length=10)
    time_zone: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=50)
    notes: str | None = None


class OrganizationCreateIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    domains: list[str] = []
    shares_tickets: bool = False


def _person(user, *, staff_view: bool) -> dict[str, Any]:
    data = {"id": user.pk, "email": user.email or "", "name": user.name, "role": user.role,
            "organization_id": user.organization_id, "locale": user.locale, "time_zone": user.time_zone,
            "phone": user.phone, "is_active": user.is_active, "created_at": user.date_joined}
    if staff_view:
        data |= {"notes": user.notes, "custom_fields": user.custom_fields}
    return data


def _agent(user) -> dict[str, Any]:
    return {**_person(user, staff_view=False), "availability": user.availability,
            "restrict_to_teams": user.restrict_to_teams, "capacity": user.capacity,
            "teams": [{"id": t.pk, "name": t.name} for t in user.teams.all()]}


def _organization(org) -> dict[str, Any]:
    return {"id": org.pk, "name": org.name, "shares_tickets": org.shares_tickets,
            "domains": [d.domain for d in org.domains.all()], "notes": org.notes, "created_at": org.created_at}


def _team(team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "slug": team.slug, "email": team.email,
            "assignment_strategy": team.assignment_strategy, "member_ids": sorted(m.pk for m in team.members.all()),
            "created_at": team.created_at}


@router.get("/customers", response=responses(CustomerPageOut), summary="List customers")
def customer_list(request: HttpRequest, query: Query[PeopleQuery]):
    """Agents see every customer; a customer's token sees only its own profile."""
    qs = search_people(customer_list_for_user(user=request.user), query.q or "")
    if query.organization_id is not None:
        qs = qs.filter(organization_id=query.organization_id)
    staff = request.user.is_staff_member
    return page_of(qs, order="id", cursor=query.cursor, size=query.size,
                   serialize=lambda u: _person(u, staff_view=staff))


@router.get("/customers/{customer_id}", response=responses(CustomerOut), summary="Read a customer")
def customer_read(request: HttpRequest, customer_id: int):
    customer = access_customer(user=request.user, customer_id=customer_id)
    return _person(customer, staff_view=request.user.is_staff_member)


@router.post("/customers", response=responses({200: CustomerOut, 201: CustomerOut}),
             summary="Find or create a customer by address")
def customer_create(request: HttpRequest, payload: CustomerCreateIn):
    """Agents register a customer (joined to an organisation by email domain). 200 if the address exists."""
    if not request.user.is_agent:
        raise PermissionDenied("Only agents add customers.")
    existed = customer_for_identity(kind=IdentityKind.EMAIL, value=payload.email) is not None
    customer = customer_get_or_create(email=payload.email, name=payload.name, locale=payload.locale,
                                      actor=Actor.for_user(request.user))
    return (200 if existed else 201), _person(customer, staff_view=True)


@router.patch("/customers/{customer_id}", response=responses(CustomerOut), summary="Change a customer's profile")
def customer_change(request: HttpRequest, customer_id: int, payload: CustomerUpdateIn):
    """Agents edit any customer; customers their own profile (notes are for agents only)."""
    customer = access_customer(user=request.user, customer_id=customer_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    if not request.user.is_staff_member:
        changes.pop("notes", None)
    elif not request.user.is_agent:
        raise PermissionDenied("Collaborators cannot edit customers.")
    customer = user_update_profile(user=customer, **changes) if changes else customer
    return _person(customer, staff_view=request.user.is_staff_member)


@router.get("/organizations", response=responses(OrganizationPageOut), summary="List organisations")
def organization_list(request: HttpRequest, query: Query[PageQuery]):
    return page_of(organization_list_for_user(user=request.user), order="id", cursor=query.cursor,
                   size=query.size, serialize=_organization)


@router.get("/organizations/{organization_id}", response=responses(OrganizationOut), summary="Read an organisation")
def organization_read(request: HttpRequest, organization_id: int):
    return _organization(access_organization(user=request.user, organization_id=organization_id))


@router.post("/organizations", response=responses(OrganizationOut, 201), summary="Create an organisation")
def organization_add(request: HttpRequest, payload: OrganizationCreateIn):
    require_admin(request)
    org = organization_create(name=payload.name, domains=payload.domains, shares_tickets=payload.shares_tickets)
    return 201, _organization(org)


@router.get("/agents", response=responses(AgentPageOut), summary="List agents")
def agent_list(request: HttpRequest, query: Query[PeopleQuery]):
    qs = search_people(agent_list_for_user(user=request.user), query.q or "")
    return page_of(qs, order="id", cursor=query.cursor, size=query.size, serialize=_agent)


@router.get("/agents/{agent_id}", response=responses(AgentOut), summary="Read an agent")
def agent_read(request: HttpRequest, agent_id: int):
    return _agent(access_agent(user=request.user, agent_id=agent_id))


@router.get("/teams", response=responses(TeamPageOut), summary="List teams")
def team_list(request: HttpRequest, query: Query[PageQuery]):
    return page_of(team_list_for_user(user=request.user), order="id", cursor=query.cursor, size=query.size,
                   serialize=_team)


@router.get("/teams/{team_id}", response=responses(TeamOut), summary="Read a team")
def team_read(request: HttpRequest, team_id: int):
    return _team(access_team(user=request.user, team_id=team_id))


__all__ = ["router", "require_staff"]

"""Turning ids sent in a request body into rows. An unknown id in a body is invalid input (422), not a 404."""

from __future__ import annotations

from collections.abc import Iterable

from atende.accounts.models import Team, User
from atende.accounts.selectors import access_customer
from atende.core.exceptions import NotFound, ValidationError
from atende.tickets.models import Category


def _unknown(field: str, value) -> ValidationError:
    return ValidationError(f"Unknown {field.replace('_', ' ')} {value!r}.", code=f"unknown_{field}",
                           details={field: value})


def category_for(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    found = Category.objects.filter(pk=category_id, is_active=True).first()
    if found is None:
        raise _unknown("category", category_id)
    return found


def team_for(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    found = Team.objects.filter(pk=team_id).first()
    if found is None:
        raise _unknown("team", team_id)
    return found


def agent_for(agent_id: int | None) -> User | None:
    if agent_id is None:
        return None
    found = User.objects.filter(pk=agent_id, is_active=True, role__in=["admin", "agent"]).first()
    if found is None:
        raise _unknown("assignee", agent_id)
    return found


def person_for(*, user: User, person_id: int, field: str = "requester") -> User:
    """Someone the caller may see (staff see everyone who writes in; customers only themselves)."""
    try:
        return access_customer(user=user, customer_id=person_id)
    except NotFound:
        raise _unknown(field, person_id)


def people_for(*, user: User, ids: Iterable[int], field: str = "followers") -> list[User]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    if not user.is_staff_member:
        raise ValidationError("Only agents set followers.", code="forbidden_fields")
    found = list(User.objects.filter(pk__in=ids, is_active=True))
    missing = sorted(set(ids) - {u.pk for u in found})
    if missing:
        raise _unknown(field, missing)
    return found

from django.db.models import QuerySet

from atende.accounts.choices import Role
from atende.accounts.models import Organization, Team, User
from atende.core.exceptions import NotFound


def agent_list(*, active_only: bool = True) -> QuerySet[User]:
    qs = User.objects.filter(role__in=[Role.ADMIN, Role.AGENT]).order_by("name", "email")
    return qs.filter(is_active=True) if active_only else qs


def team_ids_for_user(user: User) -> list[int]:
    if not hasattr(user, "_atende_team_ids"):
        user._atende_team_ids = list(user.teams.values_list("id", flat=True)) if user.is_authenticated else []
    return user._atende_team_ids


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def access_customer(*, user: User, customer_id: int) -> User:
    """Agents see every customer; a customer sees only themselves."""
    if user.is_authenticated and (user.is_staff_member or user.pk == customer_id):
        found = User.objects.select_related("organization").filter(pk=customer_id).first()
        if found:
            return found
    raise NotFound("Customer not found.")


def access_organization(*, user: User, organization_id: int) -> Organization:
    if user.is_authenticated and (user.is_staff_member or user.organization_id == organization_id):
        found = Organization.objects.filter(pk=organization_id).first()
        if found:
            return found
    raise NotFound("Organisation not found.")

"""Reads of the API app: tokens, and the people/teams lists the API exposes (built on accounts' rules)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from atende.accounts.choices import Role
from atende.accounts.models import Organization, Team, User
from atende.api.models import ApiToken
from atende.api.services import token_hash
from atende.core.exceptions import NotFound, PermissionDenied
from atende.core.prepared import PreparedLookup
from atende.tickets.models import Message
from atende.tickets.selectors import ticket_list_for_user

# Every token-authenticated request runs this: compiled once per connection (``atende.core.prepared``).
_token_by_hash = PreparedLookup(
    lambda token_hash: ApiToken.objects.select_related("user", "user__organization").filter(token_hash=token_hash),
    "token_hash")


def api_token_for_secret(raw: str) -> ApiToken | None:
    if not raw or len(raw) > 200:
        return None
    return _token_by_hash(token_hash=token_hash(raw))


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def access_api_token(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None or (token.user_id != user.pk and not user.is_admin):
        raise NotFound("Token not found.")
    return token


def customer_list_for_user(*, user: User) -> QuerySet[User]:
    """Staff see every customer; a customer sees only themselves."""
    qs = User.objects.filter(role=Role.CUSTOMER).select_related("organization")
    return qs if user.is_staff_member else qs.filter(pk=user.pk)


def organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    qs = Organization.objects.prefetch_related("domains")
    if user.is_staff_member:
        return qs
    return qs.filter(pk=user.organization_id) if user.organization_id else qs.none()


def messaging_thread_for_user(*, user: User, thread_id: str) -> QuerySet[Message]:
    """The messages of one API messaging thread on the user's own tickets, newest first (the thread lives where its
    latest message is: a reply to a closed ticket moved it to a follow-up)."""
    return (Message.objects.filter(ticket__in=ticket_list_for_user(user=user).filter(requester=user),
                                   external_id__startswith=f"{thread_id}:")
            .select_related("ticket").order_by("-id"))


def require_staff(user: User) -> None:
    """Lists of agents, teams and tags are the support team's business, not customers'."""
    if not user.is_staff_member:
        raise PermissionDenied("Only the support team can list this.")


def team_list_for_user(*, user: User) -> QuerySet[Team]:
    require_staff(user)
    return Team.objects.prefetch_related("members")


def access_team(*, user: User, team_id: int) -> Team:
    if user.is_staff_member:
        team = Team.objects.filter(pk=team_id).prefetch_related("members").first()
        if team:
            return team
    raise NotFound("Team not found.")


def agent_list_for_user(*, user: User) -> QuerySet[User]:
    require_staff(user)
    return User.objects.filter(role__in=[Role.ADMIN, Role.AGENT, Role.COLLABORATOR]).prefetch_related("teams")


def access_agent(*, user: User, agent_id: int) -> User:
    if user.is_staff_member:
        found = (User.objects.filter(pk=agent_id, role__in=[Role.ADMIN, Role.AGENT, Role.COLLABORATOR])
                 .prefetch_related("teams").first())
        if found:
            return found
    raise NotFound("Agent not found.")


def search_people(qs: QuerySet[User], q: str) -> QuerySet[User]:
    q = (q or "").strip()
    return qs.filter(Q(email__icontains=q) | Q(name__icontains=q)) if q else qs

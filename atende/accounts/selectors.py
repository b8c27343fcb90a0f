from django.db.models import QuerySet
from django.db.models.functions import Lower

from atende.accounts.choices import IdentityKind, Role
from atende.accounts.models import ContactIdentity, CustomerEvent, Organization, Team, User
from atende.accounts.normalize import normalize_identity
from atende.core.exceptions import NotFound
from atende.core.exceptions import ValidationError as DomainValidationError
from atende.core.prepared import PreparedLookup

# The name under which processes keep copies of the agents and teams (core.generations): the services that write
# them (accounts.services, the admin) bump it.
AGENTS_AND_TEAMS = "accounts.agents-teams"


def agent_list(*, active_only: bool = True) -> QuerySet[User]:
    qs = User.objects.filter(role__in=[Role.ADMIN, Role.AGENT]).order_by("name", "email")
    return qs.filter(is_active=True) if active_only else qs


def active_user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


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


# --- contact identities ---------------------------------------------------------------------------------------

# Every inbound message, API create and chat start looks a person up: compiled once per connection.
_identity_by_value = PreparedLookup(
    lambda kind, value: ContactIdentity.objects.select_related("customer").filter(kind=kind, value=value),
    "kind", "value")
# A new sender's address is looked up among the accounts too: ``LOWER(email) = value`` (what ``email__iexact`` runs,
# the ``user_email_lower`` index answers it) with the value already lower-cased, so that it can be kept compiled.
_user_by_lowered_email = PreparedLookup(
    lambda email: User.objects.alias(email_lower=Lower("email")).filter(email_lower=email), "email")


def identity_owner(*, kind: str, value: str) -> User | None:
    """Who owns this identity (``value`` already normalised). Email also matches an account's login address (agents
    sign in by email and have no identity rows); a WhatsApp number also matches the same phone number."""
    found = _identity_by_value(kind=kind, value=value)
    if found is not None:
        return found.customer
    if kind == IdentityKind.EMAIL:
        return _user_by_lowered_email(email=value.lower())
    if kind == IdentityKind.WHATSAPP:
        phone = _identity_by_value(kind=IdentityKind.PHONE, value=value)
        return phone.customer if phone else None
    return None


def customer_for_identity(*, kind: str, value: str) -> User | None:
    """The person reached by ``value`` (any spelling: it is normalised first), or None. Inbound mail, the forms,
    the API, chat and messaging all find people through this one lookup."""
    try:
        value = normalize_identity(kind, value)
    except DomainValidationError:
        return None
    return identity_owner(kind=kind, value=value)


def identity_list_for_customer(*, customer: User) -> QuerySet[ContactIdentity]:
    return ContactIdentity.objects.filter(customer=customer).order_by("kind", "-is_primary", "value")


def access_identity(*, user: User, identity_id: int) -> ContactIdentity:
    """Staff see every customer's identities; a customer only their own."""
    found = ContactIdentity.objects.select_related("customer").filter(pk=identity_id).first()
    if found is not None and user.is_authenticated and (user.is_staff_member or found.customer_id == user.pk):
        return found
    raise NotFound("Identity not found.")


def customer_event_list(*, customer: User) -> QuerySet[CustomerEvent]:
    return CustomerEvent.objects.filter(customer=customer).select_related("actor_user").order_by("-created_at", "-id")


def identity_is_verified(*, kind: str, value: str) -> bool:
    """The identity exists and its owner proved control of it (a verified address, or a verified login address)."""
    try:
        value = normalize_identity(kind, value)
    except DomainValidationError:
        return False
    if ContactIdentity.objects.filter(kind=kind, value=value, verified=True, customer__is_active=True).exists():
        return True
    return kind == IdentityKind.EMAIL and User.objects.filter(email__iexact=value, email_verified=True,
                                                                is_active=True).exists()

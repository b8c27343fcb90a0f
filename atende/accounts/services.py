"""Writes on people: customers, agents, organisations and teams (contact identities and merges:
``accounts.identities``)."""

import zoneinfo

from django.db import transaction

from atende.accounts.choices import Role
from atende.accounts.identities import (
    ORGANIZATION_DOMAINS,
    customer_find_or_create,
    identity_create_primary_email,
    organization_id_for_email,
)
from atende.accounts.models import Organization, OrganizationDomain, Team, TeamMembership, User
from atende.accounts.normalize import normalize_email
from atende.accounts.selectors import AGENTS_AND_TEAMS, identity_owner
from atende.core import generations
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError, full_clean_or_raise
from atende.core.text_hygiene import clean_line


def customer_get_or_create(*, email: str, name: str = "", locale: str = "", actor: Actor | None = None) -> User:
    """The customer with this address (any of their email identities), created if new."""
    return customer_find_or_create(kind="email", value=email, name=name, locale=locale, actor=actor)


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@transaction.atomic
def user_create(*, email: str, password: str | None = None, name: str = "", role: str = Role.CUSTOMER,
                organization: Organization | None = None, locale: str = "", time_zone: str = "",
                email_verified: bool = False, **extra) -> User:
    email = normalize_email(email)
    if time_zone and not _is_time_zone(time_zone):
        raise ValidationError(f"Unknown time zone “{time_zone}”.", code="unknown_time_zone")
    if User.objects.filter(email__iexact=email).exists() or identity_owner(kind="email", value=email):
        raise ValidationError("A user with this email address already exists.", code="email_taken")
    organization_id = organization.pk if organization is not None else None
    if organization is None and role == Role.CUSTOMER:
        organization_id = organization_id_for_email(email)
    user = User(email=email, name=clean_line(name, 200), role=role, organization_id=organization_id, locale=locale, time_zone=time_zone,
                email_verified=email_verified, **extra)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    full_clean_or_raise(user, exclude=["password"])
    user.save()
    if role == Role.CUSTOMER:
        identity_create_primary_email(customer=user, verified=email_verified)
    else:
        generations.bump(AGENTS_AND_TEAMS)  # a new name in the ticket pages' assignee lists
    return user


@transaction.atomic
def user_update_profile(*, user: User, **fields) -> User:
    allowed = {"name", "locale", "time_zone", "phone", "signature", "availability", "notes", "custom_fields"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Unknown profile fields: {', '.join(sorted(unknown))}")
    if fields.get("time_zone") and not _is_time_zone(fields["time_zone"]):
        raise ValidationError(f"Unknown time zone “{fields['time_zone']}”.", code="unknown_time_zone",
                              details={"time_zone": fields["time_zone"]})
    if "name" in fields:
        fields["name"] = clean_line(fields["name"], 200)
    for name, value in fields.items():
        setattr(user, name, value)
    full_clean_or_raise(user, exclude=["password"])
    user.save(update_fields=list(fields))
    if user.is_staff_member:
        generations.bump(AGENTS_AND_TEAMS)  # the name or phone the assignee lists show may have changed
    return user


@transaction.atomic
def organization_create(*, name: str, domains: list[str] = (), shares_tickets: bool = False) -> Organization:
    org = Organization(name=clean_line(name, 200), shares_tickets=shares_tickets)
    full_clean_or_raise(org)
    org.save()
    for domain in domains:
        OrganizationDomain.objects.create(organization=org, domain=domain)
    if domains:
        generations.bump(ORGANIZATION_DOMAINS)  # new customers at these domains join it, in every process
    return org


@transaction.atomic
def team_create(*, name: str, slug: str, members: list[User] = (), **extra) -> Team:
    team = Team(name=clean_line(name, 100), slug=slug, **extra)
    full_clean_or_raise(team)
    team.save()
    TeamMembership.objects.bulk_create([TeamMembership(team=team, user=m) for m in members], ignore_conflicts=True)
    generations.bump(AGENTS_AND_TEAMS)
    return team

"""Writes on contact identities: find-or-create a customer by any identity, add and remove identities, and merge
two customers. Every channel (mail, forms, API, chat, messaging) creates customers through
``customer_find_or_create``; reads are in ``accounts.selectors`` (``customer_for_identity``)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from atende.accounts.choices import CustomerEventType, IdentityKind, Role
from atende.accounts.models import ContactIdentity, CustomerEvent, OrganizationDomain, User
from atende.accounts.normalize import normalize_identity
from atende.accounts.selectors import identity_owner
from atende.core import generations
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError, full_clean_or_raise
from atende.core.text_hygiene import clean_line

logger = logging.getLogger(__name__)


# Which organisation each address domain belongs to, kept per process (core.generations): every new customer by
# email is matched against it. Organisations and their domains change only through ``organization_create`` and
# the admin (``AuditedOrganizationAdmin.outdates``), which drop every process's copy. The copy is a table filled as
# domains are met (a desk has far more domains than organisations): each entry is read under the copy's token, so
# a change drops the entries with it.
ORGANIZATION_DOMAINS = "accounts.organization-domains"
_DOMAINS_KEPT = 10_000


def organization_id_for_email(email: str) -> int | None:
    """The id of the organisation whose domain the address is at, or None."""
    domain = email.rsplit("@", 1)[-1].lower()
    known: dict[str, int | None] = generations.kept(ORGANIZATION_DOMAINS, dict)
    if domain not in known:
        if len(known) >= _DOMAINS_KEPT:
            known.clear()
        known[domain] = (OrganizationDomain.objects.filter(domain=domain).order_by("id")
                         .values_list("organization_id", flat=True).first())
    return known[domain]


def _event(customer: User, type: str, actor: Actor | None, data: dict[str, Any]) -> CustomerEvent:
    actor = actor or Actor.system()
    return CustomerEvent.objects.create(customer=customer, type=type, actor_user=actor.user,
                                        actor_kind=actor.kind, data=data)


def _identity_taken(kind: str, value: str, owner: User) -> Conflict:
    return Conflict(
        _("%(value)s already belongs to another person (%(owner)s). Merge the two customers instead.")
        % {"value": value, "owner": owner.display_name},
        code="identity_taken", details={"kind": kind, "value": value, "owner_id": owner.pk})


@transaction.atomic
def customer_find_or_create(*, kind: str, value: str, name: str = "", locale: str = "", verified: bool = False,
                            actor: Actor | None = None) -> User:
    """The person reached by this identity, or a new customer who owns it (an email customer also joins the
    organisation of the address's domain). A WhatsApp number already known as a phone number finds that customer
    and gains the WhatsApp identity. Safe against two requests creating the same customer at once."""
    value = normalize_identity(kind, value)
    owner = identity_owner(kind=kind, value=value)
    if owner is not None:
        if kind == IdentityKind.WHATSAPP and owner.is_customer:
            _identity_insert(customer=owner, kind=kind, value=value, verified=verified)
        return owner
    return customer_create_for_identity(kind=kind, value=value, name=name, locale=locale, verified=verified)


def customer_create_for_identity(*, kind: str, value: str, name: str = "", locale: str = "",
                                 verified: bool = False, savepoint: bool = True) -> User:
    """A new customer who owns this identity, for a caller that has just looked it up and found nobody
    (``accounts.selectors.customer_for_identity``), so that a new sender costs one look-up, not two. Someone
    who came to own it since (another request created them) is returned instead; ``savepoint=False`` is for a
    caller whose own savepoint is redone then (``mail-import``'s messages): the ``IntegrityError`` is raised,
    and the two statements of a savepoint of its own (a round trip each on PostgreSQL) are saved."""
    value = normalize_identity(kind, value)
    is_email = kind == IdentityKind.EMAIL
    user = User(email=value if is_email else None, name=clean_line(name, 200), role=Role.CUSTOMER,
                locale=locale or "", organization_id=organization_id_for_email(value) if is_email else None,
                email_verified=verified and is_email,
                phone=value if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP) else "")
    user.set_unusable_password()
    # Nobody owns the identity (just looked up): the unique address is the database's to enforce, below; the
    # organisation was just found by its domain, and its foreign key holds it.
    full_clean_or_raise(user, exclude=["password", "organization"], validate_unique=False)
    try:
        with transaction.atomic(savepoint=savepoint):
            user.save()
            ContactIdentity.objects.create(customer=user, kind=kind, value=value, is_primary=is_email,
                                           verified=verified)
    except IntegrityError:  # created concurrently by another request
        if not savepoint:
            raise
        owner = identity_owner(kind=kind, value=value)
        if owner is None:
            raise
        return owner
    return user


def _identity_insert(*, customer: User, kind: str, value: str, verified: bool = False,
                     primary: bool = False) -> ContactIdentity | None:
    try:
        with transaction.atomic():
            return ContactIdentity.objects.create(customer=customer, kind=kind, value=value, verified=verified,
                                                  is_primary=primary)
    except IntegrityError:
        return None


def identity_create_primary_email(*, customer: User, verified: bool = False) -> None:
    """A new customer account's address as its primary email identity (``user_create`` calls this)."""
    if customer.email:
        _identity_insert(customer=customer, kind=IdentityKind.EMAIL, value=customer.email.lower(),
                         verified=verified, primary=True)


def _require_agent(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_agent:
        raise PermissionDenied(_("Only agents can change a customer's identities."), code="agents_only")


@transaction.atomic
def identity_add(*, customer: User, kind: str, value: str, actor: Actor, verified: bool = False) -> ContactIdentity:
    """Give a customer one more way to be reached. Refused (409 ``identity_taken``) when another person owns it;
    adding one the customer already has changes nothing. A customer without an address gets this one as their
    primary email (and login)."""
    _require_agent(actor)
    if not customer.is_customer:
        raise ValidationError(_("Identities belong to customers."), code="not_a_customer")
    value = normalize_identity(kind, value)
    customer = User.objects.select_for_update().get(pk=customer.pk)
    owner = identity_owner(kind=kind, value=value)
    if owner is not None and owner.pk != customer.pk:
        raise _identity_taken(kind, value, owner)
    existing = ContactIdentity.objects.filter(kind=kind, value=value).first()
    if existing is not None:
        return existing
    primary = kind == IdentityKind.EMAIL and not customer.email
    identity = _identity_insert(customer=customer, kind=kind, value=value, verified=verified, primary=primary)
    if identity is None:  # taken between the check and the insert
        raise _identity_taken(kind, value, identity_owner(kind=kind, value=value) or customer)
    if primary:
        customer.email = value
        customer.save(update_fields=["email"])
    _event(customer, CustomerEventType.IDENTITY_ADDED, actor, {"kind": kind, "value": value})
    return identity


@transaction.atomic
def identity_remove(*, identity: ContactIdentity, actor: Actor) -> None:
    """Remove an identity. The last one cannot go (the customer would be unreachable); removing the primary email
    promotes the next address (or leaves the customer without one)."""
    _require_agent(actor)
    customer = User.objects.select_for_update().get(pk=identity.customer_id)
    identity = ContactIdentity.objects.filter(pk=identity.pk, customer=customer).first()
    if identity is None:
        return
    others = ContactIdentity.objects.filter(customer=customer).exclude(pk=identity.pk)
    if not others.exists():
        raise Conflict(_("This is the customer's only identity; add another one before removing it."),
                       code="last_identity")
    was_primary = identity.is_primary
    kind, value = identity.kind, identity.value
    identity.delete()
    if was_primary:
        successor = others.filter(kind=IdentityKind.EMAIL).order_by("-verified", "id").first()
        if successor is not None:
            ContactIdentity.objects.filter(pk=successor.pk).update(is_primary=True)
        customer.email = successor.value if successor else None
        customer.email_verified = bool(successor and successor.verified)
        customer.save(update_fields=["email", "email_verified"])
    _event(customer, CustomerEventType.IDENTITY_REMOVED, actor, {"kind": kind, "value": value})


# --- merging two customers ----------------------------------------------------------------------------------------

# Credentials and sessions stay with the merged (inactive) account: moving them would let whoever holds the
# source's passkey, second factor or API token act as the survivor.
KEPT_ON_SOURCE = frozenset({
    "signin.signinsession.user", "signin.passkey.user", "otp_totp.totpdevice.user", "otp_static.staticdevice.user",
    "api.apitoken.user", "api.idempotencykey.user", "signin.securitypolicy.break_glass_user",
    "accounts.user_groups.user", "accounts.user_user_permissions.user", "admin.logentry.user",
})


def _reassign(relation: models.ForeignObjectRel, source: User, target: User) -> tuple[int, int]:
    """Point every row of ``relation`` at ``target``. Rows that would break a unique rule (the target already
    follows that ticket) stay with the source, so nothing is deleted. Returns (moved, kept)."""
    model, field = relation.related_model, relation.field.name
    rows = model._base_manager.filter(**{field: source})
    try:
        with transaction.atomic():
            return rows.update(**{field: target}), 0
    except IntegrityError:
        pass
    moved = kept = 0
    for pk in rows.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                moved += model._base_manager.filter(pk=pk).update(**{field: target})
        except IntegrityError:
            kept += 1
    return moved, kept


@transaction.atomic
def customer_merge(*, source: User, target: User, actor: Actor) -> User:
    """Merge ``source`` into ``target`` (the survivor) in one transaction: every row that points at the source
    (tickets requested, messages written, followers, events, survey answers…, found through the model graph so
    a new app's rows move too) and its identities move to the target; the source is kept inactive with
    ``merged_into`` set, and one ``MERGED_FROM`` event is recorded on the survivor."""
    _require_agent(actor)
    if source.pk == target.pk:
        raise ValidationError(_("A customer cannot be merged into itself."), code="merge_same")
    first, second = sorted([source.pk, target.pk])
    locked = {u.pk: u for u in User.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    source, target = locked.get(source.pk), locked.get(target.pk)
    if source is None or target is None:
        raise ValidationError(_("Both customers must exist."), code="merge_missing")
    if not (source.is_customer and target.is_customer):
        raise ValidationError(_("Only customers can be merged."), code="merge_not_customers")
    if source.merged_into_id or not target.is_active:
        raise Conflict(_("This customer was already merged or is inactive."), code="merge_inactive")

    identities = list(ContactIdentity.objects.filter(customer=source).values("kind", "value"))
    source_email = source.email
    # Identities first: the source's primary email becomes a secondary one when the survivor has its own.
    moved_primary = ContactIdentity.objects.filter(customer=source, kind=IdentityKind.EMAIL, is_primary=True)
    if target.email:
        moved_primary.update(is_primary=False)
    ContactIdentity.objects.filter(customer=source).update(customer=target)
    source.email = None
    source.is_active = False
    source.merged_into = target
    source.save(update_fields=["email", "is_active", "merged_into"])
    if not target.email and source_email:
        target.email = source_email
        target.email_verified = source.email_verified
    for name in ("name", "phone", "locale", "time_zone", "organization_id"):
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
    target.notes = "\n\n".join(n for n in (target.notes, source.notes) if n.strip())
    target.save(update_fields=["email", "email_verified", "name", "phone", "locale", "time_zone", "organization",
                               "notes"])

    moved: dict[str, int] = {}
    kept: dict[str, int] = {}
    relations = [f for f in User._meta.get_fields(include_hidden=True)
                 if f.is_relation and f.auto_created and not f.concrete]  # every FK pointing at users, "+" ones too
    for relation in relations:
        if relation.many_to_many or relation.related_model in (ContactIdentity, CustomerEvent):
            continue
        if relation.related_model is User:  # customers merged earlier into the source now point at the target
            User.objects.filter(merged_into=source).update(merged_into=target)
            continue
        label = f"{relation.related_model._meta.label_lower}.{relation.field.name}"
        if label in KEPT_ON_SOURCE:
            continue
        count, left = _reassign(relation, source, target)
        if count:
            moved[label] = count
        if left:
            kept[label] = left
    CustomerEvent.objects.filter(customer=source).update(customer=target)
    _event(target, CustomerEventType.MERGED_FROM, actor, {
        "source": {"id": source.pk, "name": source.name, "email": source_email},
        "identities": identities, "moved": moved, "kept_on_source": kept,
    })
    logger.info("customer %s merged into %s: %s", source.pk, target.pk, moved)
    return target

"""Every read of tickets goes through here: who may see which ticket, message and attachment.

"Not yours" and "missing" raise the same ``NotFound``, so nobody can probe for other people's tickets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atende.accounts.models import User
from atende.accounts.selectors import team_ids_for_user
from atende.core import generations
from atende.core.exceptions import NotFound
from atende.core.prepared import PreparedLookup, prepared_read
from atende.tickets.choices import MessageKind, TicketEventType
from atende.tickets.models import (
    Attachment,
    Category,
    CustomField,
    Message,
    Tag,
    Ticket,
    TicketEvent,
    TicketFollower,
    TicketLink,
)


def ticket_visibility_filter(user: User) -> Q | None:
    """A Q restricting tickets to what ``user`` may see; ``None`` means everything; ``Q(pk__in=[])`` nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin or (user.is_staff_member and not (user.is_collaborator or user.restrict_to_teams)):
        return None
    follows = Q(Exists(TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)))
    if user.is_staff_member:
        # their teams' tickets, what they are assigned, and what they were asked to follow (a mention)
        return Q(team_id__in=team_ids_for_user(user)) | Q(assignee_id=user.pk) | follows
    visible = Q(requester_id=user.pk) | follows
    if user.organization_id and user.organization.shares_tickets:
        visible |= Q(organization_id=user.organization_id)
    return visible


def ticket_list_for_user(*, user: User, base: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = base if base is not None else Ticket.objects.all()
    restriction = ticket_visibility_filter(user)
    return qs if restriction is None else qs.filter(restriction)


# What a ticket is read with by default; a caller that needs less passes its own (each join is a few tenths of a
# millisecond of query building on every request).
TICKET_RELATED = ("requester", "requester__organization", "assignee", "team", "organization", "category", "form",
                  "merged_into", "follow_up_of", "problem")


def access_ticket(*, user: User, number: int | None = None, ticket_id: int | None = None,
                  for_update: bool = False, related: tuple[str, ...] = TICKET_RELATED,
                  annotate: dict[str, Any] | Callable[[], dict[str, Any]] | None = None) -> Ticket:
    """The ticket if ``user`` may see it, else NotFound (identical for missing and forbidden). ``related``: the
    relations fetched in the same query (others load when first read); ``annotate``: expressions read in the same
    query (what a page would otherwise ask in queries of their own), or a function returning them.

    For a user who sees every ticket (the visibility filter adds nothing), a read with ``annotate`` given as a
    function (or none) has its SQL built once per connection and shape (``core.prepared``): the function
    must be a module-level one, the same object on every request."""
    field = "number" if number is not None else "pk"
    try:
        value = int(number if number is not None else ticket_id)
    except (TypeError, ValueError):
        raise NotFound("Ticket not found.")
    restriction = ticket_visibility_filter(user)
    if restriction is None and not isinstance(annotate, dict):
        found = prepared_read(("access_ticket", field, related, annotate),
                              partial(_ticket_read, field, related, annotate), (value,))
    else:
        qs = Ticket.objects.all() if restriction is None else Ticket.objects.filter(restriction)
        qs = qs.select_related(*related)
        if annotate:
            qs = qs.annotate(**(annotate if isinstance(annotate, dict) else annotate()))
        # Number and id are unique: no ORDER BY (``first()`` adds one, which costs query building, not database time).
        found = list(qs.filter(**{field: value})[:1])
    if not found:
        raise NotFound("Ticket not found.")
    return found[0]


def _ticket_read(field: str, related: tuple[str, ...], annotate: Callable[[], dict[str, Any]] | None,
                 value: int) -> QuerySet[Ticket]:
    qs = Ticket.objects.select_related(*related)
    if annotate is not None:
        qs = qs.annotate(**annotate())
    return qs.filter(**{field: value})[:1]


def tickets_in_full(*, user: User, ticket_ids: list[int], related=()) -> dict[int, Ticket]:
    """The visible tickets among ``ticket_ids`` by id, every column and their tags, in one query (search hits
    carry only the columns lists show)."""
    return ticket_list_for_user(user=user).select_related(*related).prefetch_related("tags").in_bulk(ticket_ids)


def ticket_link_list_for_user(*, user: User, ticket: Ticket) -> QuerySet[TicketLink]:
    """Links from or to a ticket the user may see; links are the support team's business."""
    if not user.is_staff_member:
        return TicketLink.objects.none()
    return (TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket)).select_related("source", "target")
            .order_by("created_at", "id"))


def access_ticket_link(*, user: User, ticket: Ticket, link_id: int) -> TicketLink:
    """A link of ``ticket`` whose other end the user may also see, else NotFound."""
    link = (TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket), pk=link_id)
            .select_related("source", "target").first())
    if link is None:
        raise NotFound("Link not found.")
    access_ticket(user=user, ticket_id=link.target_id if link.source_id == ticket.pk else link.source_id)
    return link


def can_edit_ticket(user: User, ticket: Ticket) -> bool:
    """Agents (not collaborators) change fields; nobody changes a closed ticket."""
    return user.is_authenticated and user.is_agent and not ticket.is_closed


def message_list_for_user(*, user: User, ticket: Ticket) -> QuerySet[Message]:
    """The thread; customers never see internal notes or system messages."""
    qs = Message.objects.filter(ticket=ticket).select_related("author").prefetch_related("attachments")
    if not user.is_staff_member:
        qs = qs.filter(kind=MessageKind.REPLY)
    return qs.order_by("created_at", "id")


def _window(qs: QuerySet, latest: int | None) -> QuerySet:
    return qs if latest is None else qs.reverse()[:latest + 1]


def timeline_messages(*, user: User, ticket: Ticket, latest: int | None = None) -> list[Message]:
    """``message_list_for_user`` as a list, its attachments read with it; ``latest=N``: the newest N + 1, newest
    first. The two queries' SQL is built once per connection (``core.prepared``)."""
    staff = user.is_staff_member

    def build(ticket_id: int) -> QuerySet[Message]:
        qs = Message.objects.filter(ticket_id=ticket_id).select_related("author")
        return _window((qs if staff else qs.filter(kind=MessageKind.REPLY)).order_by("created_at", "id"), latest)

    messages = prepared_read(("timeline_messages", staff, latest), build, (ticket.pk,))
    attach_attachments(messages)
    return messages


def attach_attachments(messages: list[Message]) -> None:
    """Each message's ``attachments.all()``, as ``prefetch_related("attachments")`` fills it, in one query."""
    if not messages:
        return
    ids = [m.pk for m in messages]
    # IN lists of a few fixed lengths, filled with an id no message has, so a few shapes serve every thread.
    size = next((n for n in (16, 64, 256, 1024) if n >= len(ids)), len(ids))
    found = prepared_read(("attachments_of", size), _attachments_of, ids + [0] * (size - len(ids)))
    by_message: dict[int, list[Attachment]] = {m.pk: [] for m in messages}
    for attachment in found:
        by_message[attachment.message_id].append(attachment)
    cache_name = Message.attachments.field.remote_field.cache_name
    set_message = Attachment.message.field.set_cached_value
    for message in messages:
        rows = by_message[message.pk]
        for attachment in rows:
            set_message(attachment, message)
        queryset = QuerySet(model=Attachment, using=message._state.db)
        queryset._result_cache, queryset._prefetch_done = rows, True
        message.__dict__.setdefault("_prefetched_objects_cache", {})[cache_name] = queryset


def _attachments_of(*message_ids: int) -> QuerySet[Attachment]:
    return Attachment.objects.filter(message__in=message_ids)


def timeline_events(*, user: User, ticket: Ticket, latest: int | None = None,
                    hidden: frozenset[str] = frozenset()) -> list[TicketEvent]:
    """``event_list_for_user`` without the ``hidden`` types, as a list; ``latest=N``: the newest N + 1, newest
    first. Its SQL is built once per connection (``core.prepared``)."""
    if not user.is_staff_member:
        return []
    hidden = frozenset(hidden)

    def build(ticket_id: int) -> QuerySet[TicketEvent]:
        qs = TicketEvent.objects.filter(ticket_id=ticket_id).select_related("actor_user")
        return _window(qs.exclude(type__in=sorted(hidden)).order_by("created_at", "id"), latest)

    return prepared_read(("timeline_events", hidden, latest), build, (ticket.pk,))


def event_list_for_user(*, user: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    if not user.is_staff_member:
        return TicketEvent.objects.none()
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor_user").order_by("created_at", "id")


def access_attachment(*, user: User, attachment_id: int) -> Attachment:
    """An attachment is visible when its ticket is, and (for customers) its message is a public reply."""
    attachment = Attachment.objects.select_related("message", "ticket").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("Attachment not found.")
    access_ticket(user=user, ticket_id=attachment.ticket_id)
    if not user.is_staff_member and attachment.message is not None and attachment.message.kind != MessageKind.REPLY:
        raise NotFound("Attachment not found.")
    return attachment


def requester_recent_tickets(*, user: User, ticket: Ticket, limit: int = 5) -> QuerySet[Ticket]:
    return (ticket_list_for_user(user=user).filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk)
            .order_by("-created_at", "-id")[:limit])


# The name under which processes keep copies of the categories and custom field definitions (core.generations):
# what writes them (the admin, the demo seed) bumps it.
CATEGORIES_AND_FIELDS = "tickets.categories-fields"


def custom_field_definitions() -> dict[str, CustomField]:
    """Every custom field definition by key (inactive ones too: old values and history still need labels). The
    definitions are kept per process and shared by every request: read them, never change them."""
    return {field.key: field for field in generations.kept(CATEGORIES_AND_FIELDS,
                                                           lambda: tuple(CustomField.objects.all()))}


def custom_field_list_for_user(*, user: User) -> QuerySet[CustomField]:
    """Active field definitions; customers see only the fields shown to them."""
    fields = CustomField.objects.filter(is_active=True)
    return fields if user.is_staff_member else fields.filter(customer_visible=True)


def customer_visible_field_keys() -> set[str]:
    return set(CustomField.objects.filter(customer_visible=True).values_list("key", flat=True))


def tag_list_with_counts() -> QuerySet[Tag]:
    """Every tag with its ``ticket_count``."""
    return Tag.objects.annotate(ticket_count=Count("tickets"))


def active_category_list() -> QuerySet[Category]:
    """Active categories, parents before their children's siblings (``parent_id`` then name)."""
    return Category.objects.filter(is_active=True).select_related("parent").order_by("parent_id", "name")


def custom_field_values(*, ticket: Ticket, for_customer: bool = False) -> list[tuple[str, str]]:
    """(field label, value as people read it) of a ticket's custom fields, in the fields' order; a customer sees
    only the fields shown to customers."""
    values = ticket.custom_fields or {}
    definitions = custom_field_definitions()
    shown = []
    for field in sorted(definitions.values(), key=lambda f: (f.position, f.key)):
        if field.key in values and values[field.key] not in (None, "") and (field.customer_visible or not for_customer):
            shown.append((field.display_label(), field.display_value(values[field.key])))
    if not for_customer:  # values without a definition (removed fields, imports) are still the agent's data
        shown += [(key, str(value)) for key, value in values.items() if key not in definitions]
    return shown


def ticket_reply_route(ticket: Ticket) -> dict[str, str] | None:
    """Where public replies go: the route of the channel the customer last wrote from on this ticket (a messaging
    app records ``{"transport": "whatsapp", "address": …}`` in the message's ``reply_route``), or None for email.
    A customer who last wrote by email or in the portal gets email again."""
    last = _last_reply_route(ticket_id=ticket.pk)
    return _route_of(last.metadata if last is not None else None)


def ticket_reply_routes(ticket_ids) -> dict[int, dict[str, str]]:
    """``ticket_reply_route`` for many tickets in one query: {ticket id: route} for those that have one."""
    last = Subquery(_last_customer_reply(OuterRef("pk")).values("metadata")[:1])
    rows = Ticket.objects.filter(pk__in=list(ticket_ids)).annotate(last_route=last).values_list("pk", "last_route")
    return {pk: route for pk, metadata in rows if (route := _route_of(metadata)) is not None}


def _last_customer_reply(ticket) -> QuerySet:
    return (Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY, author_kind="customer")
            .order_by("-created_at", "-id"))


# Read on every ticket page (the reply box): SQL compiled once per connection.
_last_reply_route = PreparedLookup(lambda ticket_id: _last_customer_reply(ticket_id).only("id", "metadata"),
                                   "ticket_id")


def _route_of(metadata) -> dict[str, str] | None:
    route = (metadata or {}).get("reply_route") if isinstance(metadata, dict) else None
    if isinstance(route, dict) and route.get("transport") and route.get("address"):
        return {"transport": str(route["transport"]), "address": str(route["address"])}
    return None


# What to tell a customer about the first reply (the contact form's page and acknowledgements on every channel);
# the minutes are the first-reply target of the SLA policy that applies, which the callers read.
def expected_reply_text(minutes: int | None, *, language: str = "") -> str:
    """"We usually answer within 4 business hours", in ``language`` (empty when there is no target)."""
    if not minutes:
        return ""
    with translation.override(language or translation.get_language()):
        if minutes < 60:
            return ngettext("We usually answer within %(count)d business minute.",
                            "We usually answer within %(count)d business minutes.", minutes) % {"count": minutes}
        if minutes < 24 * 60 or minutes % (24 * 60):
            hours = math.ceil(minutes / 60)
            return ngettext("We usually answer within %(count)d business hour.",
                            "We usually answer within %(count)d business hours.", hours) % {"count": hours}
        days = minutes // (24 * 60)
        return ngettext("We usually answer within %(count)d business day.",
                        "We usually answer within %(count)d business days.", days) % {"count": days}


def recipient_language(user: User | None, ticket: Ticket | None = None) -> str:
    """The language ("en" or "pt-br") to write to a person about a ticket: their profile's, else the ticket's,
    else the desk's."""
    for value in ((user.locale if user else ""), (ticket.language if ticket else ""), settings.LANGUAGE_CODE):
        value = (value or "").lower().replace("_", "-")
        if value.startswith("pt"):
            return "pt-br"
        if value.startswith("en"):
            return "en"
    return "en"


def applied_first_reply_minutes(ticket: Ticket) -> int | None:
    """The first-reply target of the ticket's SLA policy, as recorded in the ``SLA_APPLIED`` event when the policy
    was applied (what subscribers that run after SLA tell the customer; no import of ``sla`` needed)."""
    return applied_first_reply_minutes_many([ticket]).get(ticket.pk)


def applied_first_reply_minutes_many(tickets) -> dict[int, int | None]:
    """``applied_first_reply_minutes`` for many tickets with one query (ticket id → minutes, or None)."""
    result: dict[int, int | None] = {t.pk: None for t in tickets}
    policy = {t.pk: t.sla_policy_id for t in tickets if t.sla_policy_id}
    if not policy:
        return result
    decided: set[int] = set()
    for ticket_id, data in (TicketEvent.objects.filter(ticket_id__in=policy, type=TicketEventType.SLA_APPLIED)
                            .order_by("-id").values_list("ticket_id", "data")):
        # The latest SLA_APPLIED event of the policy the ticket has now holds its targets.
        if ticket_id not in decided and (data or {}).get("policy_id") == policy[ticket_id]:
            decided.add(ticket_id)
            minutes = ((data or {}).get("targets") or {}).get("first_reply")
            result[ticket_id] = int(minutes) if minutes else None
    return result


def no_target_text(*, language: str = "") -> str:
    with translation.override(language or translation.get_language()):
        return _("We will answer as soon as possible.")

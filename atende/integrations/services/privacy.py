"""Privacy requests: a person's data export, and erasure (anonymise the person, keep the ticket statistics).

Erasure keeps every ticket with its status, timestamps, priority, team and tags (reports stay right) but removes
what identifies the person: their profile, the text and files of their messages, the subjects of their tickets,
their name and address inside event data, tokens and follows. A ``PrivacyRequest`` row records what was done.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from atende.accounts.models import User
from atende.audit.choices import AuditAction
from atende.audit.services import audit_pseudonymise, audit_record
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.integrations.choices import PrivacyAction
from atende.integrations.models import PrivacyRequest
from atende.tickets.choices import MessageKind
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent, TicketFollower
from atende.tickets.search import reindex_tickets

ERASED_TEXT = "[erased]"


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _require_admin(actor: Actor) -> None:
    if actor.kind != "system" and (actor.user is None or not actor.user.is_admin):
        raise PermissionDenied("Only administrators handle privacy requests.")


def _message(message: Message) -> dict[str, Any]:
    return {"id": message.pk, "ticket_number": message.ticket.number, "kind": message.kind,
            "channel": message.channel, "body_text": message.body_text, "created_at": _iso(message.created_at),
            "attachments": [{"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                             "sha256": a.sha256} for a in message.attachments.all()]}


@transaction.atomic
def privacy_export(*, actor: Actor, person: User) -> dict[str, Any]:
    """Everything Atende holds about ``person`` that they could see: profile, tickets and their public thread,
    messages they wrote elsewhere, follows and API tokens. Logged as a PrivacyRequest."""
    _require_admin(actor)
    tickets = (Ticket.objects.filter(requester=person).select_related("organization", "team")
               .prefetch_related("tags").order_by("id"))
    data: dict[str, Any] = {
        "exported_at": _iso(timezone.now()),
        "person": {"id": person.pk, "email": person.email, "name": person.name, "role": person.role,
                   "phone": person.phone, "locale": person.locale, "time_zone": person.time_zone,
                   "organization": person.organization.name if person.organization_id else None,
                   "custom_fields": person.custom_fields, "joined_at": _iso(person.date_joined),
                   "last_login_at": _iso(person.last_login), "is_active": person.is_active},
        "tickets": [],
        "messages_on_other_tickets": [],
        "followed_ticket_numbers": sorted(TicketFollower.objects.filter(user=person)
                                          .values_list("ticket__number", flat=True)),
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "scope": t.scope, "created_at": _iso(t.created_at),
                        "last_used_at": _iso(t.last_used_at)} for t in person.api_tokens.all()],
    }
    for ticket in tickets:
        thread = (Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY).select_related("ticket")
                  .prefetch_related("attachments").order_by("created_at", "id"))
        data["tickets"].append({
            "number": ticket.number, "subject": ticket.subject, "status": ticket.status, "channel": ticket.channel,
            "type": ticket.type, "priority": ticket.priority, "tags": sorted(t.name for t in ticket.tags.all()),
            "organization": ticket.organization.name if ticket.organization_id else None,
            "created_at": _iso(ticket.created_at), "solved_at": _iso(ticket.solved_at),
            "closed_at": _iso(ticket.closed_at), "messages": [_message(m) for m in thread],
        })
    elsewhere = (Message.objects.filter(author=person, kind=MessageKind.REPLY).exclude(ticket__requester=person)
                 .select_related("ticket").prefetch_related("attachments").order_by("created_at", "id"))
    data["messages_on_other_tickets"] = [_message(m) for m in elsewhere]
    PrivacyRequest.objects.create(action=PrivacyAction.EXPORT, subject_user_id=person.pk, subject_email=person.email,
                                  requested_by=actor.user,
                                  summary={"tickets": len(data["tickets"]),
                                           "messages": len(data["messages_on_other_tickets"])})
    return data


def _scrub(value: Any, needles: list[str]) -> Any:
    """Replace the person's name and address wherever they appear in event data (nested JSON)."""
    if isinstance(value, str):
        for needle in needles:
            if needle and needle.lower() in value.lower():
                return ERASED_TEXT
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


@transaction.atomic
def privacy_erase(*, actor: Actor, person: User) -> dict[str, int]:
    """Anonymise a customer for good. Tickets and their statistics stay; what identifies the person goes."""
    _require_admin(actor)
    if person.is_staff_member:
        raise ValidationError("Only customers are erased; deactivate staff accounts instead.",
                              code="not_a_customer")
    person = User.objects.select_for_update().get(pk=person.pk)
    needles = [n for n in {person.email, person.name.strip()} if n and len(n) >= 3]
    old_email, old_name = person.email, person.name
    email_digest = hashlib.sha256((person.email or "").lower().encode()).hexdigest()
    ticket_ids = list(Ticket.objects.filter(requester=person).values_list("id", flat=True))
    messages = Message.objects.filter(Q(author=person) | Q(ticket_id__in=ticket_ids, kind=MessageKind.REPLY,
                                                           author_kind="customer"))
    message_ids = list(messages.values_list("id", flat=True))
    attachments = Attachment.objects.filter(Q(message_id__in=message_ids) | Q(uploaded_by=person))
    files = set(attachments.values_list("file", flat=True))
    removed_attachments = attachments.count()
    attachments.delete()
    still_used = set(Attachment.objects.filter(file__in=files).values_list("file", flat=True))
    orphaned = files - still_used
    Message.objects.filter(pk__in=message_ids).update(body_text=ERASED_TEXT, body_html="", metadata={},
                                                      external_id="")
    for ticket in Ticket.objects.filter(pk__in=ticket_ids).only("id", "number"):
        Ticket.objects.filter(pk=ticket.pk).update(subject=f"Ticket #{ticket.number} (erased)")
    events = 0
    for event in TicketEvent.objects.filter(Q(ticket_id__in=ticket_ids) | Q(actor_user=person)).only("id", "data"):
        scrubbed = _scrub(event.data, needles)
        if scrubbed != event.data:
            TicketEvent.objects.filter(pk=event.pk).update(data=scrubbed)
            events += 1
    TicketFollower.objects.filter(user=person).delete()
    person.api_tokens.all().delete()
    person.identities.all().delete()  # addresses, phone numbers and handles are personal data too
    person.customer_events.all().delete()
    person.email = f"erased-{person.pk}@erased.invalid"
    person.name = f"Erased customer {person.pk}"
    person.phone = person.notes = person.signature = person.time_zone = ""
    person.custom_fields = {}
    person.is_active = False
    person.email_verified = False
    person.set_unusable_password()
    person.save()
    summary = {"tickets": len(ticket_ids), "messages": len(message_ids), "attachments": removed_attachments,
               "events": events}
    summary["audit_entries"] = audit_pseudonymise(person=person, email=old_email, name=old_name)
    PrivacyRequest.objects.create(action=PrivacyAction.ERASE, subject_user_id=person.pk, subject_email="",
                                  requested_by=actor.user, summary={**summary, "email_sha256": email_digest})
    audit_record(action=AuditAction.PERSON_ERASED, actor=actor, subject=person, data=summary)
    transaction.on_commit(lambda: _after_erase(ticket_ids, orphaned))
    return summary


def _after_erase(ticket_ids: list[int], orphaned_files: set[str]) -> None:
    """After commit: drop the files nobody references any more and refresh the search index."""
    from django.core.files.storage import default_storage

    for name in orphaned_files:
        if name and default_storage.exists(name):
            default_storage.delete(name)
    reindex_tickets(ticket_ids)

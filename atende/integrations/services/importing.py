"""Writing an import batch: people and organisations, then tickets through ``ticket_create`` and the message
and transition services, with events suppressed (history is not news: no notifications, no webhooks).

Idempotent: every imported row is remembered in ``ExternalRecord`` (system, kind, external id). Importing the
same file again changes nothing; a newer export of the same tickets adds only the messages not seen before and
moves the status if it changed. Each ticket is its own transaction, so one bad row is rejected alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from atende.accounts.choices import Role
from atende.accounts.models import Organization, Team, User
from atende.accounts.services import customer_get_or_create, organization_create, user_create
from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.core.exceptions import DomainError
from atende.integrations.importing.records import ImportBatch, PersonRecord, RecordError, TicketRecord
from atende.integrations.models import ExternalRecord
from atende.reports.services import rollups_mark_tickets
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Message, Ticket
from atende.tickets.search import reindex_tickets
from atende.tickets.services import message_add_note, message_add_reply, ticket_create, ticket_transition

# The shortest path through the lifecycle from "new" or "open" to an imported status.
PATHS = {
    TicketStatus.NEW: [],
    TicketStatus.OPEN: [TicketStatus.OPEN],
    TicketStatus.PENDING: [TicketStatus.PENDING],
    TicketStatus.ON_HOLD: [TicketStatus.ON_HOLD],
    TicketStatus.SOLVED: [TicketStatus.SOLVED],
    TicketStatus.CLOSED: [TicketStatus.SOLVED, TicketStatus.CLOSED],
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    messages_added: int = 0
    people_created: int = 0
    organizations_created: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    ticket_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "messages_added": self.messages_added, "people_created": self.people_created,
                "organizations_created": self.organizations_created,
                "rejected": [{"record": label, "reason": reason} for label, reason in self.rejected]}


class _Resolver:
    """Source keys → Atende rows, creating people and organisations on first sight."""

    def __init__(self, batch: ImportBatch, report: ImportReport):
        self.system = batch.system
        self.report = report
        self.people = {}
        for person in batch.people:
            known = self.people.get(person.key)
            if known is None or (not known.name and person.name):
                self.people[person.key] = person
        self.orgs = {org.key: org for org in batch.organizations}
        self._users: dict[str, User] = {}
        self._org_rows: dict[str, Organization | None] = {}

    def _linked(self, kind: str, key: str):
        row = ExternalRecord.objects.filter(system=self.system, kind=kind, external_id=key).first()
        return row.object_id if row else None

    def _link(self, kind: str, key: str, object_id: int) -> None:
        ExternalRecord.objects.get_or_create(system=self.system, kind=kind, external_id=key,
                                             defaults={"object_id": object_id})

    def organization(self, key: str | None) -> Organization | None:
        if not key:
            return None
        if key in self._org_rows:
            return self._org_rows[key]
        org = None
        linked = self._linked("organization", key)
        if linked:
            org = Organization.objects.filter(pk=linked).first()
        record = self.orgs.get(key)
        name = record.name if record else key
        if org is None:
            org = Organization.objects.filter(name__iexact=name).first()
        if org is None and (record is not None or not key.isdigit()):
            org = organization_create(name=name, shares_tickets=record.shares_tickets if record else False,
                                      domains=[d for d in (record.domains if record else [])
                                               if not Organization.objects.filter(domains__domain=d).exists()])
            self.report.organizations_created += 1
        if org is not None:
            self._link("organization", key, org.pk)
        self._org_rows[key] = org
        return org

    def person(self, key: str | None, *, role: str = "customer") -> User | None:
        if not key:
            return None
        if key in self._users:
            return self._users[key]
        record = self.people.get(key) or (PersonRecord(key=key, email=key, role=role) if "@" in key else None)
        user = None
        linked = self._linked("user", key)
        if linked:
            user = User.objects.filter(pk=linked).first()
        if user is None and record is None:
            raise RecordError(f"person {key!r} is not in the export")
        if user is None:
            user = User.objects.filter(email__iexact=record.email).first()
        if user is None:
            org = self.organization(record.organization)
            if record.role == "agent":
                user = user_create(email=record.email, name=record.name, role=Role.AGENT, phone=record.phone,
                                   locale=record.locale, organization=org)
            else:
                user = customer_get_or_create(email=record.email, name=record.name, locale=record.locale)
                if org is not None and user.organization_id is None:
                    User.objects.filter(pk=user.pk).update(organization=org)
                    user.organization = org
            self.report.people_created += 1
        self._link("user", key, user.pk)
        self._users[key] = user
        return user


def _actor_for(user: User | None) -> Actor:
    if user is None:
        return Actor.system()
    return Actor.for_user(user)


def _add_messages(ticket: Ticket, record: TicketRecord, resolver: _Resolver, system: str,
                  skip_first: bool) -> int:
    added = 0
    existing = set()
    for external_id, metadata in Message.objects.filter(ticket=ticket).values_list("external_id", "metadata"):
        existing.add(external_id)
        if isinstance(metadata, dict) and metadata.get("import_id"):
            existing.add(metadata["import_id"])  # notes carry no external id of their own
    for index, message in enumerate(record.messages):
        external_id = f"{system}:{message.external_id}"[:998]
        if (skip_first and index == 0) or external_id in existing:
            continue
        author, metadata = _message_author(resolver, message.author, record.requester, message.metadata)
        if message.kind == "note":
            note_actor = _actor_for(author) if author is not None and author.is_staff_member else Actor.system()
            message_add_note(ticket=ticket, actor=note_actor, body_text=message.body_text or "(empty)",
                             body_html=message.body_html, metadata={**metadata, "import_id": external_id},
                             created_at=message.created_at)
        else:
            message_add_reply(ticket=ticket, actor=_actor_for(author), author=author,
                              body_text=message.body_text or "(empty)", body_html=message.body_html,
                              external_id=external_id, metadata=metadata, created_at=message.created_at)
        added += 1
    return added


def _message_author(resolver: _Resolver, key: str | None, requester_key: str, metadata: dict):
    """The message's author. Exports often lack deleted or suspended users: such messages are kept, without an
    author (as the support side), noting the source's author id."""
    if not key:
        return resolver.person(requester_key), metadata
    try:
        return resolver.person(key), metadata
    except RecordError:
        return None, {**metadata, "unknown_author": key}


def _move_to(ticket: Ticket, status: str, when) -> None:
    ticket.refresh_from_db()
    if status == ticket.status:
        return
    for step in PATHS.get(status, []):
        if ticket.status == step:
            continue
        if ticket.can_transition_to(step):
            ticket = ticket_transition(ticket=ticket, to=step, actor=Actor.system(), reason="import", now=when,
                                       enforce_solve_rules=False)


def _import_ticket(record: TicketRecord, resolver: _Resolver, system: str) -> tuple[str, int]:
    if not record.subject:
        raise RecordError("subject is empty")
    if record.status not in TicketStatus.values:
        raise RecordError(f"unknown status {record.status!r}")
    linked = resolver._linked("ticket", record.external_id)
    ticket = Ticket.objects.filter(pk=linked).first() if linked else None
    if ticket is not None:
        resolver.report.ticket_ids.append(ticket.pk)
        if ticket.is_closed:
            return "unchanged", 0
        added = _add_messages(ticket, record, resolver, system, skip_first=False)
        before = ticket.status
        _move_to(ticket, record.status, record.updated_at)
        ticket.refresh_from_db()
        return ("updated" if added or ticket.status != before else "unchanged"), added
    requester = resolver.person(record.requester)
    assignee = resolver.person(record.assignee, role="agent") if record.assignee else None
    if assignee is not None and not assignee.is_agent:
        assignee = None
    team = Team.objects.filter(name__iexact=record.team).first() if record.team else None
    first = record.messages[0] if record.messages else None
    if first is None:
        raise RecordError("no description or messages")
    first_author, first_metadata = _message_author(resolver, first.author, record.requester, first.metadata)
    first_author = first_author or requester
    by_agent = first_author is not None and first_author.is_staff_member
    ticket = ticket_create(
        actor=Actor.for_user(first_author) if by_agent else Actor.system(), requester=requester,
        subject=record.subject, body_text=first.body_text or "(empty)", body_html=first.body_html,
        channel=record.channel if record.channel in dict(Ticket._meta.get_field("channel").choices) else "api",
        type=record.type, team=team, assignee=assignee, priority=record.priority, tags=record.tags,
        custom_fields=record.custom_fields or None, external_id=record.external_id[:200],
        message_external_id=f"{system}:{first.external_id}"[:998], message_metadata=first_metadata,
        first_message_by_agent=by_agent, created_at=record.created_at,
    )
    resolver._link("ticket", record.external_id, ticket.pk)
    resolver.report.ticket_ids.append(ticket.pk)
    added = _add_messages(ticket, record, resolver, system, skip_first=True)
    _move_to(ticket, record.status, record.updated_at or record.created_at)
    return "created", added + 1


def import_batch(batch: ImportBatch, *, progress: Callable[[int, int], None] | None = None,
                 dry_run: bool = False) -> ImportReport:
    """Import every ticket of ``batch`` (each in its own transaction); returns counts and the rejected rows."""
    report = ImportReport(rejected=list(batch.rejected))
    resolver = _Resolver(batch, report)
    total = len(batch.tickets)
    with events_suppressed():
        for done, record in enumerate(batch.tickets, start=1):
            try:
                with transaction.atomic():
                    outcome, added = _import_ticket(record, resolver, batch.system)
                    if dry_run:
                        transaction.set_rollback(True)
                setattr(report, outcome, getattr(report, outcome) + 1)
                report.messages_added += added
            except (RecordError, DomainError, DjangoValidationError) as exc:
                resolver._users.clear()
                resolver._org_rows.clear()
                reason = exc.message if isinstance(exc, DomainError) else "; ".join(getattr(exc, "messages", [])) \
                    if isinstance(exc, DjangoValidationError) else str(exc)
                report.rejected.append((record.label, reason))
            if dry_run:
                resolver._users.clear()
                resolver._org_rows.clear()
            if progress:
                progress(done, total)
    if not dry_run:
        _reindex_search(report.ticket_ids)
        _mark_reports(report.ticket_ids)
    return report


def _mark_reports(ticket_ids: list[int]) -> None:
    """Nor did the reports' summary tables: their next refresh (within a minute) recomputes these tickets'."""
    rollups_mark_tickets(ticket_ids=ticket_ids)


def _reindex_search(ticket_ids: list[int]) -> None:
    """Events were suppressed, so the search index did not follow; rebuild it for the imported tickets."""
    reindex_tickets(ticket_ids)

"""Import file formats: CSV (one row per message), Atende JSON / JSON lines (what ``atende export`` writes),
and Zendesk exports (see ``zendesk.py``). Format documentation: docs/import-export.md."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from atende.integrations.importing.records import (
    ImportBatch,
    MessageRecord,
    OrgRecord,
    PersonRecord,
    RecordError,
    TicketRecord,
    text,
    when,
)
from atende.integrations.importing.zendesk import looks_like_zendesk, read_zendesk

CSV_COLUMNS = ["external_id", "subject", "status", "priority", "type", "channel", "requester_email",
               "requester_name", "organization", "team", "assignee_email", "tags", "created_at", "updated_at",
               "message_external_id", "message_kind", "message_author_email", "message_body", "message_created_at"]


def read_import_file(stream: io.TextIOBase | Iterable[str], *, fmt: str = "auto", system: str = "") -> ImportBatch:
    """Read a whole import file. ``fmt``: auto, csv, json, jsonl, zendesk."""
    raw = stream.read() if hasattr(stream, "read") else "".join(stream)
    if fmt == "auto":
        stripped = raw.lstrip()
        fmt = "json" if stripped.startswith(("{", "[")) else "csv"
    if fmt == "csv":
        return read_csv(raw, system=system or "csv")
    documents = _json_documents(raw)
    if fmt == "zendesk" or (fmt in ("json", "jsonl") and looks_like_zendesk(documents)):
        return read_zendesk(documents, system=system or "zendesk")
    return read_atende_json(documents, system=system or "atende")


def _json_documents(raw: str) -> list[Any]:
    try:
        return [json.loads(raw)]
    except json.JSONDecodeError:
        pass
    documents = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.strip():
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RecordError(f"line {number} is not JSON: {exc.msg}")
    return documents


# -- CSV -------------------------------------------------------------------------------------------------------

def read_csv(raw: str, *, system: str) -> ImportBatch:
    """Rows sharing an ``external_id`` are one ticket: the first row opens it, each row carries one message."""
    batch = ImportBatch(system=system)
    reader = csv.DictReader(io.StringIO(raw.lstrip("\ufeff")))
    missing = {"external_id", "subject", "requester_email"} - set(reader.fieldnames or [])
    if missing:
        raise RecordError(f"the CSV header lacks: {', '.join(sorted(missing))}")
    tickets: dict[str, TicketRecord] = {}
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        label = f"row {number}"
        try:
            external_id = text(row.get("external_id"))
            if not external_id:
                raise RecordError("external_id is empty (needed to import idempotently)")
            ticket = tickets.get(external_id)
            if ticket is None:
                requester = text(row.get("requester_email")).lower()
                if not requester:
                    raise RecordError("requester_email is empty")
                batch.people.append(PersonRecord(key=requester, email=requester,
                                                 name=text(row.get("requester_name")),
                                                 organization=text(row.get("organization")) or None))
                ticket = TicketRecord(
                    label=label, external_id=external_id, subject=text(row.get("subject")), requester=requester,
                    status=text(row.get("status")) or "new", priority=text(row.get("priority")) or None,
                    type=text(row.get("type")) or None, channel=text(row.get("channel")) or "api",
                    assignee=text(row.get("assignee_email")).lower() or None, team=text(row.get("team")) or None,
                    organization=text(row.get("organization")) or None,
                    tags=[t for t in text(row.get("tags")).replace(",", " ").split() if t],
                    created_at=when(row.get("created_at"), "created_at"),
                    updated_at=when(row.get("updated_at"), "updated_at"),
                )
                tickets[external_id] = ticket
            body = row.get("message_body") or row.get("description") or ""
            if body.strip():
                ticket.messages.append(MessageRecord(
                    external_id=text(row.get("message_external_id")) or f"{external_id}#{len(ticket.messages) + 1}",
                    body_text=body, author=text(row.get("message_author_email")).lower() or ticket.requester,
                    kind=text(row.get("message_kind")) or "reply",
                    created_at=when(row.get("message_created_at"), "message_created_at")))
        except RecordError as exc:
            batch.rejected.append((label, str(exc)))
    batch.tickets = list(tickets.values())
    return batch


# -- Atende JSON -------------------------------------------------------------------------------------------------

def _person_key(value: Any, batch: ImportBatch, *, role: str = "customer") -> str | None:
    """A person given as an email string or an object {email, name, external_id}; registered in the batch."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        email = value.strip().lower()
        batch.people.append(PersonRecord(key=email, email=email, role=role))
        return email
    if isinstance(value, dict):
        email = text(value.get("email")).lower()
        if not email:
            raise RecordError("a person has no email")
        batch.people.append(PersonRecord(key=email, email=email, name=text(value.get("name")), role=role,
                                         organization=text(value.get("organization")) or None,
                                         phone=text(value.get("phone")), locale=text(value.get("locale"))))
        return email
    raise RecordError(f"cannot read person {value!r}")


def _ticket_objects(documents: list[Any]) -> tuple[list[dict], list[dict], list[dict]]:
    tickets, people, orgs = [], [], []
    for doc in documents:
        if isinstance(doc, list):
            tickets.extend(doc)
        elif isinstance(doc, dict) and any(k in doc for k in ("tickets", "customers", "organizations")):
            tickets.extend(doc.get("tickets") or [])
            people.extend(doc.get("customers") or [])
            orgs.extend(doc.get("organizations") or [])
        else:
            tickets.append(doc)
    return tickets, people, orgs


def read_atende_json(documents: list[Any], *, system: str) -> ImportBatch:
    batch = ImportBatch(system=system)
    tickets, people, orgs = _ticket_objects(documents)
    for index, org in enumerate(orgs, start=1):
        if isinstance(org, dict) and text(org.get("name")):
            batch.organizations.append(OrgRecord(key=text(org.get("external_id")) or text(org["name"]),
                                                 name=text(org["name"]), domains=list(org.get("domains") or []),
                                                 shares_tickets=bool(org.get("shares_tickets"))))
        else:
            batch.rejected.append((f"organisation {index}", "no name"))
    for index, person in enumerate(people, start=1):
        try:
            _person_key(person, batch)
        except RecordError as exc:
            batch.rejected.append((f"customer {index}", str(exc)))
    for index, item in enumerate(tickets, start=1):
        label = f"ticket {index}"
        try:
            if not isinstance(item, dict):
                raise RecordError("not a JSON object")
            external_id = text(item.get("external_id")) or text(item.get("number"))
            label = f"ticket {external_id or index}"
            if not external_id:
                raise RecordError("external_id is empty (needed to import idempotently)")
            requester = _person_key(item.get("requester") or item.get("requester_email"), batch)
            if requester is None:
                raise RecordError("no requester")
            assignee = _person_key(item.get("assignee") or item.get("assignee_email"), batch, role="agent")
            record = TicketRecord(
                label=label, external_id=external_id, subject=text(item.get("subject")), requester=requester,
                status=text(item.get("status")) or "new", priority=text(item.get("priority")) or None,
                type=text(item.get("type")) or None, channel=text(item.get("channel")) or "api", assignee=assignee,
                team=_name(item.get("team")), organization=_name(item.get("organization")),
                tags=[str(t) for t in item.get("tags") or []], custom_fields=dict(item.get("custom_fields") or {}),
                created_at=when(item.get("created_at"), "created_at"),
                updated_at=when(item.get("updated_at"), "updated_at"),
            )
            for position, message in enumerate(item.get("messages") or [], start=1):
                author = message.get("author") or message.get("author_email")
                record.messages.append(MessageRecord(
                    external_id=text(message.get("external_id")) or text(message.get("id"))
                    or f"{external_id}#{position}",
                    body_text=message.get("body_text") or message.get("body") or "",
                    body_html=message.get("body_html") or "",
                    author=_person_key(author, batch, role=_author_role(message)) or requester,
                    kind=text(message.get("kind")) or "reply",
                    created_at=when(message.get("created_at"), "message created_at")))
            if not record.messages and (item.get("description") or item.get("body")):
                record.messages.append(MessageRecord(external_id=f"{external_id}#1", author=requester,
                                                     body_text=item.get("description") or item.get("body")))
            batch.tickets.append(record)
        except RecordError as exc:
            batch.rejected.append((label, str(exc)))
    return batch


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        return text(value.get("name")) or None
    return text(value) or None


def _author_role(message: dict) -> str:
    kind = text(message.get("author_kind"))
    if kind in ("agent", "system", "automation") or text(message.get("kind")) == "note":
        return "agent"
    return "customer"

"""Zendesk exports: the incremental export's pages (``tickets``, side-loaded ``users``, ``organizations``,
``groups``), comments either embedded in tickets, listed under ``comments`` (with ``ticket_id``), or as
``Comment`` child events of the incremental ticket-events export (``ticket_events``). Pages may be one JSON
document or one page per line."""

from __future__ import annotations

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

STATUS = {"new": "new", "open": "open", "pending": "pending", "hold": "on_hold", "on-hold": "on_hold",
          "solved": "solved", "closed": "closed"}
CHANNEL = {"email": "email", "web": "web", "web_form": "web", "web_widget": "web", "chat": "chat",
           "native_messaging": "messaging", "sms": "messaging", "whatsapp": "messaging", "voice": "phone",
           "phone": "phone", "api": "api", "mobile_sdk": "messaging"}


def _pages(documents: list[Any]) -> list[dict]:
    pages = []
    for doc in documents:
        if isinstance(doc, dict) and any(k in doc for k in ("tickets", "ticket_events", "users", "comments")):
            pages.append(doc)
        elif isinstance(doc, dict) and "requester_id" in doc:  # one ticket per line
            pages.append({"tickets": [doc]})
        elif isinstance(doc, list):
            pages.append({"tickets": doc})
    return pages


def looks_like_zendesk(documents: list[Any]) -> bool:
    for page in _pages(documents):
        if page.get("ticket_events") or page.get("comments"):
            return True
        for ticket in page.get("tickets") or []:
            if isinstance(ticket, dict) and ("requester_id" in ticket or "via" in ticket or "raw_subject" in ticket):
                return True
    return False


def _comment(comment: dict, ticket_id: str) -> MessageRecord:
    attachments = [{"name": a.get("file_name") or a.get("name"), "url": a.get("content_url"),
                    "content_type": a.get("content_type"), "size": a.get("size")}
                   for a in comment.get("attachments") or [] if isinstance(a, dict)]
    return MessageRecord(
        external_id=f"comment-{comment.get('id')}" if comment.get("id") is not None else "",
        body_text=comment.get("plain_body") or comment.get("body") or "",
        body_html=comment.get("html_body") or "",
        author=str(comment["author_id"]) if comment.get("author_id") is not None else None,
        kind="reply" if comment.get("public", True) else "note",
        created_at=when(comment.get("created_at"), "comment created_at"),
        metadata={"zendesk": {"ticket_id": ticket_id, "comment_id": comment.get("id"),
                              "attachments": attachments}} if attachments else {},
    )


def read_zendesk(documents: list[Any], *, system: str) -> ImportBatch:
    batch = ImportBatch(system=system)
    pages = _pages(documents)
    groups: dict[str, str] = {}
    comments: dict[str, list[dict]] = {}
    for page in pages:
        for org in page.get("organizations") or []:
            if org.get("id") is None or not text(org.get("name")):
                batch.rejected.append((f"organization {org.get('id')}", "no id or name"))
                continue
            batch.organizations.append(OrgRecord(key=str(org["id"]), name=text(org["name"]),
                                                 domains=list(org.get("domain_names") or []),
                                                 shares_tickets=bool(org.get("shared_tickets")),
                                                 notes=text(org.get("notes"))))
        for user in page.get("users") or []:
            if user.get("id") is None or not text(user.get("email")):
                batch.rejected.append((f"user {user.get('id')}", "no id or email"))
                continue
            batch.people.append(PersonRecord(
                key=str(user["id"]), email=text(user["email"]).lower(), name=text(user.get("name")),
                role="agent" if user.get("role") in ("agent", "admin") else "customer",
                organization=str(user["organization_id"]) if user.get("organization_id") else None,
                phone=text(user.get("phone")), locale=_locale(user.get("locale"))))
        for group in page.get("groups") or []:
            if group.get("id") is not None:
                groups[str(group["id"])] = text(group.get("name"))
        for comment in page.get("comments") or []:
            if comment.get("ticket_id") is not None:
                comments.setdefault(str(comment["ticket_id"]), []).append(comment)
        for event in page.get("ticket_events") or []:
            for child in event.get("child_events") or []:
                if (child.get("event_type") or child.get("type")) == "Comment":
                    child = {"created_at": event.get("created_at") or event.get("timestamp"),
                             "author_id": event.get("updater_id"), **child}
                    comments.setdefault(str(event.get("ticket_id")), []).append(child)
    for page in pages:
        for ticket in page.get("tickets") or []:
            label = f"ticket {ticket.get('id')}"
            try:
                batch.tickets.append(_ticket(ticket, comments, groups))
            except RecordError as exc:
                batch.rejected.append((label, str(exc)))
    return batch


def _ticket(ticket: dict, comments: dict[str, list[dict]], groups: dict[str, str]) -> TicketRecord:
    if ticket.get("id") is None:
        raise RecordError("no id")
    ticket_id = str(ticket["id"])
    status = STATUS.get(text(ticket.get("status")).lower())
    if status is None:
        raise RecordError(f"status {ticket.get('status')!r} cannot be imported")
    if ticket.get("requester_id") is None:
        raise RecordError("no requester_id")
    via = (ticket.get("via") or {}).get("channel") if isinstance(ticket.get("via"), dict) else None
    record = TicketRecord(
        label=f"ticket {ticket_id}", external_id=ticket_id,
        subject=text(ticket.get("subject")) or text(ticket.get("raw_subject")),
        requester=str(ticket["requester_id"]), status=status, priority=text(ticket.get("priority")) or None,
        type=text(ticket.get("type")) or None, channel=CHANNEL.get(text(via), "api"),
        assignee=str(ticket["assignee_id"]) if ticket.get("assignee_id") else None,
        team=groups.get(str(ticket.get("group_id"))) or None,
        organization=str(ticket["organization_id"]) if ticket.get("organization_id") else None,
        tags=[str(t) for t in ticket.get("tags") or []],
        created_at=when(ticket.get("created_at"), "created_at"), updated_at=when(ticket.get("updated_at"),
                                                                                "updated_at"),
    )
    thread = [*(ticket.get("comments") or []), *comments.get(ticket_id, [])]
    thread.sort(key=lambda c: (text(c.get("created_at")), c.get("id") or 0))
    seen = set()
    for comment in thread:
        message = _comment(comment, ticket_id)
        if message.external_id and message.external_id in seen:
            continue
        seen.add(message.external_id)
        record.messages.append(message)
    description = ticket.get("description") or ""
    if description and (not record.messages or record.messages[0].body_text.strip() != description.strip()):
        # Zendesk's description is the first comment; keep it first when the comments are not exported.
        record.messages.insert(0, MessageRecord(external_id=f"ticket-{ticket_id}-description", body_text=description,
                                                author=record.requester, created_at=record.created_at))
    return record


def _locale(value: Any) -> str:
    value = text(value).lower()
    return "pt-br" if value.startswith("pt") else ("en" if value.startswith("en") else "")

"""Reads for triage: the history a model learns from, the active model, and similar earlier tickets."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr

from atende.accounts.models import User
from atende.tickets.choices import MessageKind, TicketStatus
from atende.tickets.models import Message, Ticket
from atende.tickets.selectors import ticket_list_for_user
from atende.triage.learning.text import MAX_FIELD_CHARS
from atende.triage.models import PredictableField, TriageModel

LEARNED_STATUSES = (TicketStatus.SOLVED, TicketStatus.CLOSED)
MAX_TRAINING_TICKETS = 30_000  # the most recent ones: older routing is stale, and the training time stays bounded
BATCH = 5_000
CUSTOM_PREFIX = "custom:"
BASE_FIELDS = ("team", "category", "urgency", "impact", "priority")


def active_model() -> TriageModel | None:
    return TriageModel.objects.active().first()


def predictable_custom_field_keys() -> list[str]:
    return sorted(PredictableField.objects.filter(custom_field__is_active=True)
                  .values_list("custom_field__key", flat=True))


def learnable_ticket_count() -> int:
    return _learnable().count()


def _learnable():
    return Ticket.objects.filter(status__in=LEARNED_STATUSES, is_spam=False, merged_into__isnull=True)


def ticket_record(*, subject: str, body: str, channel: str = "", organization_id: int | None = None,
                  requester_id: int | None = None) -> dict[str, str]:
    """The inputs of a prediction, as the model reads them (training and prediction build them alike)."""
    return {"subject": subject or "", "body": body or "", "channel": channel or "",
            "organization": str(organization_id) if organization_id else "",
            "requester": str(requester_id) if requester_id else ""}


def training_history(*, custom_keys: list[str], limit: int = MAX_TRAINING_TICKETS,
                     progress: Callable[[int, int], None] | None = None) -> tuple[list[int], list[dict]]:
    """The ``limit`` most recent solved or closed tickets (not spam, not merged) as records: the inputs
    (subject, first message, channel, organisation, requester) and the answers (team, category, urgency, impact,
    priority, and each predictable custom field as ``custom:<key>``). Read in keyset batches, newest first."""
    total = min(limit, learnable_ticket_count())
    # Only the start of the first message travels: a huge pasted log adds nothing the model reads.
    first_body = Subquery(Message.objects.filter(ticket_id=OuterRef("pk"), kind=MessageKind.REPLY)
                          .order_by("created_at", "id").annotate(head=Substr("body_text", 1, MAX_FIELD_CHARS))
                          .values("head")[:1])
    ids: list[int] = []
    records: list[dict] = []
    last_id = None
    while len(ids) < total:
        qs = _learnable().order_by("-id")
        if last_id is not None:
            qs = qs.filter(id__lt=last_id)
        rows = list(qs.annotate(first_body=first_body).values_list(
            "id", "subject", "first_body", "channel", "organization_id", "requester_id", "team_id", "category_id",
            "urgency", "impact", "priority", "custom_fields")[:min(BATCH, total - len(ids))])
        if not rows:
            break
        for (pk, subject, body, channel, org, requester, team, category, urgency, impact, priority,
             custom) in rows:
            record = ticket_record(subject=subject, body=body or "", channel=channel, organization_id=org,
                                   requester_id=requester)
            record.update(team=str(team) if team else "", category=str(category) if category else "",
                          urgency=urgency, impact=impact, priority=priority)
            custom = custom if isinstance(custom, dict) else {}
            for key in custom_keys:
                value = custom.get(key)
                record[CUSTOM_PREFIX + key] = str(value) if isinstance(value, str | int) and value != "" else ""
            ids.append(pk)
            records.append(record)
        last_id = rows[-1][0]
        if progress:
            progress(len(ids), total)
    return ids, records


def similar_tickets_for_user(*, user: User, ticket: Ticket, limit: int = 5) -> list[Ticket]:
    """Up to ``limit`` earlier tickets most like ``ticket`` that ``user`` may see, solved and closed ones first,
    then by similarity; from the tickets the active model learned from. Empty without a usable model."""
    from atende.triage.predictions import loaded_model  # predictions imports this module's selectors

    model = loaded_model()
    if model is None:
        return []
    body = (Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY).order_by("created_at", "id")
            .values_list("body_text", flat=True).first() or "")
    record = ticket_record(subject=ticket.subject, body=body[:MAX_FIELD_CHARS], channel=ticket.channel,
                           organization_id=ticket.organization_id, requester_id=ticket.requester_id)
    scored = [(pk, score) for pk, score in model.nearest(record, limit=limit * 10) if pk != ticket.pk]
    if not scored:
        return []
    similarity = dict(scored)
    candidates = ticket_list_for_user(user=user).filter(pk__in=list(similarity), created_at__lt=ticket.created_at,
                                                        merged_into__isnull=True)
    found = list(candidates.select_related("team", "requester"))
    found.sort(key=lambda t: (t.status not in LEARNED_STATUSES, -similarity[t.pk]))
    return found[:limit]

"""Reads for triage: the history a model learns from, the active model, and similar earlier tickets."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

from atende.accounts.models import User
from atende.tickets.choices import FieldKind, MessageKind, TicketStatus
from atende.tickets.models import CustomField, Message, Ticket
from atende.tickets.selectors import ticket_list_for_user
from atende.triage.learning.text import MAX_FIELD_CHARS
from atende.triage.models import FieldSetting, PredictableField, Prediction, TriageModel

LEARNED_STATUSES = (TicketStatus.SOLVED, TicketStatus.CLOSED)
MAX_TRAINING_TICKETS = 30_000  # the most recent ones: older routing is stale, and the training time stays bounded
BATCH = 5_000
CUSTOM_PREFIX = "custom:"
BASE_FIELDS = ("team", "category", "urgency", "impact", "priority")
NEAR_DUPLICATE_SIMILARITY = 0.8


def active_model() -> TriageModel | None:
    return TriageModel.objects.active().first()


def predictable_custom_field_keys() -> list[str]:
    return sorted(PredictableField.objects.filter(custom_field__is_active=True)
                  .values_list("custom_field__key", flat=True))


def predictable_custom_field_ids() -> list[int]:
    """The custom fields an admin marked as predictable (the admin page's form), inactive ones included."""
    return list(PredictableField.objects.values_list("custom_field_id", flat=True))


def dropdown_fields() -> dict[str, CustomField]:
    """The select-type custom field definitions by key: the fields a model can predict, and their labels."""
    return {f.key: f for f in CustomField.objects.filter(kind=FieldKind.DROPDOWN)}


def how_solved_for_user(*, user: User, tickets: list[Ticket], max_chars: int = 220) -> dict[int, str]:
    """Per ticket of ``tickets`` that ``user`` may see, its resolution summary, else the start of its last public
    agent reply (cut at ``max_chars``). Tickets without either are absent."""
    visible = set(ticket_list_for_user(user=user).filter(pk__in=[t.pk for t in tickets]).values_list("pk", flat=True))
    out = {t.pk: t.resolution_summary for t in tickets if t.pk in visible and t.resolution_summary}
    missing = [pk for pk in visible if pk not in out]
    for ticket_id, body in (Message.objects.filter(ticket_id__in=missing, kind=MessageKind.REPLY, author_kind="agent")
                            .order_by("ticket_id", "created_at", "id").values_list("ticket_id", "body_text")):
        out[ticket_id] = body  # the last one wins
    return {pk: (text[:max_chars] + "…") if len(text) > max_chars else text for pk, text in out.items() if text}


def ticket_numbers_for_user(*, user: User, ticket_ids: list[int]) -> dict[int, int]:
    """``id → number`` of the tickets among ``ticket_ids`` that ``user`` may see."""
    return dict(ticket_list_for_user(user=user).filter(pk__in=ticket_ids).values_list("pk", "number"))


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


def current_value(ticket: Ticket, field: str) -> str:
    """The ticket's value of a predicted field, as a prediction stores it ("" when empty)."""
    if field == "team":
        return str(ticket.team_id or "")
    if field == "category":
        return str(ticket.category_id or "")
    if field.startswith(CUSTOM_PREFIX):
        value = (ticket.custom_fields or {}).get(field[len(CUSTOM_PREFIX):])
        return "" if value in (None, "") else str(value)
    return str(getattr(ticket, field, "") or "")


def predictions_for_ticket(*, ticket: Ticket) -> list:
    """The suggestions stored for ``ticket`` (the caller has checked the user may see it), in field order."""
    order = {name: i for i, name in enumerate(BASE_FIELDS)}
    found = list(Prediction.objects.filter(ticket=ticket))
    return sorted(found, key=lambda p: (order.get(p.field, len(order)), p.field))


def field_settings() -> dict[str, FieldSetting]:
    return {s.field: s for s in FieldSetting.objects.all()}


def near_duplicates_for_user(*, user: User, ticket: Ticket, window_hours: int = 24,
                             min_similarity: float = NEAR_DUPLICATE_SIMILARITY) -> list[tuple[Ticket, float]]:
    """Open tickets of the same requester created within ``window_hours`` before ``ticket`` whose subject and
    first message are nearly the same (cosine similarity of word counts ≥ ``min_similarity``), that ``user`` may
    see: candidates for merging ``ticket`` into them. Most similar first."""
    since = ticket.created_at - datetime.timedelta(hours=window_hours)
    candidates = list(ticket_list_for_user(user=user).filter(
        requester_id=ticket.requester_id, created_at__gte=since, created_at__lt=ticket.created_at,
        merged_into__isnull=True, is_spam=False).exclude(pk=ticket.pk).exclude(status=TicketStatus.CLOSED)
        .order_by("-created_at")[:20])
    if not candidates:
        return []
    bodies = dict(Message.objects.filter(ticket_id__in=[t.pk for t in candidates] + [ticket.pk], kind=MessageKind.REPLY)
                  .order_by("ticket_id", "-created_at", "-id").values_list("ticket_id", "body_text"))
    # values_list into dict keeps the last row per ticket: ordered newest first, that is the first message.
    texts = [f"{t.subject}\n{(bodies.get(t.pk) or '')[:MAX_FIELD_CHARS]}" for t in [ticket, *candidates]]
    vectors = CountVectorizer(token_pattern=r"(?u)\b\w+\b", lowercase=True).fit_transform(texts)
    vectors = normalize(vectors)
    sims = (vectors[1:] @ vectors[0].T).toarray().ravel()
    found = [(t, float(s)) for t, s in zip(candidates, sims, strict=True) if s >= min_similarity]
    return sorted(found, key=lambda pair: -pair[1])


def suggestion_accuracy(*, weeks: int = 12, now: datetime.datetime | None = None) -> list[dict]:
    """Per field and week (by the suggestion's date), over tickets now solved or closed: how many suggestions
    there were, how many matched the ticket's final value, and how many an agent corrected. Newest week first."""
    now = now or timezone.now()
    since = now - datetime.timedelta(weeks=weeks)
    rows = Prediction.objects.filter(created_at__gte=since, ticket__status__in=LEARNED_STATUSES).select_related("ticket")
    buckets: dict[tuple[str, datetime.date], dict] = {}
    for p in rows.iterator(chunk_size=2000):
        day = timezone.localtime(p.created_at).date()
        week = day - datetime.timedelta(days=day.weekday())
        bucket = buckets.setdefault((p.field, week), {"field": p.field, "week": week, "total": 0, "right": 0,
                                                      "corrected": 0})
        bucket["total"] += 1
        bucket["right"] += current_value(p.ticket, p.field) == p.value
        bucket["corrected"] += bool(p.overridden_at)
    for bucket in buckets.values():
        bucket["rate"] = bucket["right"] / bucket["total"]
    return sorted(buckets.values(), key=lambda b: (-b["week"].toordinal(), b["field"]))


def training_models(*, limit: int = 20) -> list[TriageModel]:
    """The most recent trained models, newest first (the admin page's history)."""
    return list(TriageModel.objects.select_related("trained_by").order_by("-version")[:limit])

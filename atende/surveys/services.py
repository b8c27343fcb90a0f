"""Asking for and recording satisfaction ratings."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, ValidationError
from atende.surveys.choices import Rating
from atende.surveys.models import SatisfactionSurvey
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Ticket
from atende.tickets.services import record_event

MAX_COMMENT = 5000


def _get_or_create(ticket: Ticket) -> SatisfactionSurvey:
    survey = SatisfactionSurvey.objects.filter(ticket=ticket).first()
    if survey is not None:
        return survey
    try:
        with transaction.atomic():
            return SatisfactionSurvey.objects.create(ticket=ticket, customer_id=ticket.requester_id,
                                                     team_id=ticket.team_id, assignee_id=ticket.assignee_id)
    except IntegrityError:  # asked concurrently (a retried task): the row exists now
        return SatisfactionSurvey.objects.get(ticket=ticket)


@transaction.atomic
def survey_request_create(*, ticket: Ticket) -> SatisfactionSurvey | None:
    """Ask for a rating when the ticket is solved. Idempotent: a re-solved ticket keeps its one survey."""
    ticket = Ticket.objects.filter(pk=ticket.pk).first()
    if ticket is None or ticket.status != TicketStatus.SOLVED or ticket.is_spam:
        return None
    if not ticket.requester.is_customer:
        return None  # a ticket an agent raised for themselves has nobody to ask
    survey = _get_or_create(ticket)
    if survey.team_id != ticket.team_id or survey.assignee_id != ticket.assignee_id:
        survey.team_id, survey.assignee_id = ticket.team_id, ticket.assignee_id
        survey.save(update_fields=["team_id", "assignee_id", "updated_at"])
    return survey


@transaction.atomic
def survey_answer(*, ticket: Ticket, rating: str, comment: str = "", actor: Actor) -> SatisfactionSurvey:
    """Record (or change) the customer's rating and record SURVEY_ANSWERED on the ticket.

    Allowed once the ticket is solved; changes are allowed until it closes, and a first answer is still
    accepted after closing (confirming the solution closes the ticket, and the customer may rate after).
    """
    if rating not in Rating.values:
        raise ValidationError(_("Choose good or bad."), code="rating_required", details={"rating": "required"})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(_("The comment is too long (at most %(max)d characters).") % {"max": MAX_COMMENT},
                              code="comment_too_long", details={"comment": "too_long"})
    ticket = Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related("requester").get(pk=ticket.pk)
    if ticket.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        raise Conflict(_("This request is not solved yet, so it cannot be rated."), code="ticket_not_solved")
    survey = _get_or_create(ticket)
    survey = SatisfactionSurvey.objects.select_for_update().get(pk=survey.pk)
    if ticket.is_closed and survey.is_answered:
        raise Conflict(_("This request is closed; its rating can no longer be changed."), code="survey_closed")
    old_rating, old_comment = survey.rating, survey.comment
    if old_rating == rating and old_comment == comment:
        return survey  # a double submit changes nothing and records nothing
    survey.rating, survey.comment = rating, comment
    survey.answered_at = timezone.now()
    survey.times_changed += 1 if old_rating else 0
    survey.save(update_fields=["rating", "comment", "answered_at", "times_changed", "updated_at"])
    record_event(ticket, TicketEventType.SURVEY_ANSWERED, actor=actor, data={
        "survey_id": survey.pk, "old": old_rating or None, "new": rating, "comment": comment,
    })
    return survey

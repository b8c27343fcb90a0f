"""Satisfaction survey results: per ticket, as a list, and as a summary for the support team."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.api.listing import page_of
from atende.api.schemas import responses
from atende.api.selectors import require_staff
from atende.core.exceptions import NotFound
from atende.surveys.selectors import answered_survey_list_for_user, satisfaction_summary, survey_for_ticket
from atende.tickets.selectors import access_ticket

router = Router(tags=["surveys"])


class SurveyOut(Schema):
    id: int
    ticket_id: int
    customer_id: int
    team_id: int | None
    assignee_id: int | None
    rating: str
    comment: str
    answered_at: datetime.datetime | None
    created_at: datetime.datetime


class SurveyPageOut(Schema):
    items: list[SurveyOut]
    next_cursor: str | None
    has_next: bool


class SurveySummaryOut(Schema):
    asked: int
    answered: int
    good: int
    bad: int
    score: int | None
    response_rate: int | None


class SurveyQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)
    rating: str | None = Field(None, max_length=10, description="good or bad")
    team_id: int | None = None
    assignee_id: int | None = None


class SummaryQuery(Schema):
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    team_id: int | None = None
    assignee_id: int | None = None


def _survey(survey) -> dict:
    return {"id": survey.pk, "ticket_id": survey.ticket_id, "customer_id": survey.customer_id,
            "team_id": survey.team_id, "assignee_id": survey.assignee_id, "rating": survey.rating,
            "comment": survey.comment, "answered_at": survey.answered_at, "created_at": survey.created_at}


@router.get("/surveys", response=responses(SurveyPageOut), summary="Answered satisfaction surveys")
def survey_list(request: HttpRequest, query: Query[SurveyQuery]):
    """Answers on the tickets the caller may see, newest first."""
    qs = answered_survey_list_for_user(user=request.user)
    if query.rating:
        qs = qs.filter(rating=query.rating)
    if query.team_id is not None:
        qs = qs.filter(team_id=query.team_id)
    if query.assignee_id is not None:
        qs = qs.filter(assignee_id=query.assignee_id)
    return page_of(qs, order="-id", cursor=query.cursor, size=query.size, serialize=_survey)


@router.get("/surveys/summary", response=responses(SurveySummaryOut), summary="Satisfaction score")
def survey_summary(request: HttpRequest, query: Query[SummaryQuery]):
    require_staff(request.user)
    return satisfaction_summary(since=query.since, until=query.until, team_id=query.team_id,
                                assignee_id=query.assignee_id)


@router.get("/tickets/{ticket_id}/survey", response=responses(SurveyOut), summary="A ticket's survey answer")
def ticket_survey(request: HttpRequest, ticket_id: int):
    ticket = access_ticket(user=request.user, ticket_id=ticket_id)
    survey = survey_for_ticket(ticket=ticket)
    if survey is None:
        raise NotFound("This ticket has no survey.")
    return _survey(survey)

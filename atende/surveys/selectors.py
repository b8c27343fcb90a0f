"""Reads on satisfaction: the survey link, a ticket's rating, a customer's ratings, and report figures."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.core.exceptions import NotFound
from atende.surveys.choices import Rating
from atende.surveys.models import SatisfactionSurvey
from atende.surveys.tokens import make_token, read_token
from atende.tickets.models import Ticket
from atende.tickets.selectors import ticket_list_for_user


def survey_path_for_ticket(ticket: Ticket) -> str:
    return reverse("surveys:rate", args=[make_token(ticket_id=ticket.pk, requester_id=ticket.requester_id)])


def survey_url_for_ticket(ticket: Ticket) -> str:
    """The absolute link for the "request solved" email: works without logging in, only for this ticket.
    It does not need the survey row to exist yet (the notification may be sent first)."""
    return f"{settings.SITE_URL}{survey_path_for_ticket(ticket)}"


def access_ticket_by_survey_token(*, token: str) -> Ticket:
    """The ticket a survey link is for. Raises InvalidSurveyToken (tampered, expired) or NotFound."""
    ticket_id, requester_id = read_token(token)
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id, requester_id=requester_id).first()
    if ticket is None:
        raise NotFound(_("This survey is not available any more."))
    return ticket


def survey_for_ticket(*, ticket: Ticket) -> SatisfactionSurvey | None:
    return SatisfactionSurvey.objects.filter(ticket_id=ticket.pk).first()


def survey_list_for_customer(*, customer: User) -> QuerySet[SatisfactionSurvey]:
    return (SatisfactionSurvey.objects.filter(customer=customer).exclude(rating="")
            .select_related("ticket").order_by("-answered_at", "-id"))


def answered_survey_list_for_user(*, user: User) -> QuerySet[SatisfactionSurvey]:
    """Answered surveys on the tickets ``user`` may see."""
    return SatisfactionSurvey.objects.filter(ticket__in=ticket_list_for_user(user=user)).exclude(rating="")


def satisfaction_summary(*, since: datetime.datetime | None = None, until: datetime.datetime | None = None,
                         team_id: int | None = None, assignee_id: int | None = None,
                         customer: User | None = None) -> dict:
    """Counts for reports: asked, answered, good, bad, and the score (good / answered, in %)."""
    qs = SatisfactionSurvey.objects.all()
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if customer is not None:
        qs = qs.filter(customer=customer)
    counts = qs.aggregate(asked=Count("id"), good=Count("id", filter=Q(rating=Rating.GOOD)),
                          bad=Count("id", filter=Q(rating=Rating.BAD)))
    answered = counts["good"] + counts["bad"]
    return {**counts, "answered": answered,
            "score": round(100 * counts["good"] / answered) if answered else None,
            "response_rate": round(100 * answered / counts["asked"]) if counts["asked"] else None}

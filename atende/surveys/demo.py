"""Demo satisfaction ratings on the demo's solved and closed tickets (so reports have data). Idempotent."""

from __future__ import annotations

import datetime
import random

from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.surveys.models import SatisfactionSurvey
from atende.surveys.services import survey_answer, survey_request_create
from atende.tickets.models import Ticket

COMMENTS_GOOD = ["Quick and friendly, thank you!", "Resolvido rapidamente, obrigado!", ""]
COMMENTS_BAD = ["Took too long to get an answer.", "Demorou demais.", ""]


def load_demo(*, seed: int = 11) -> dict[str, int]:
    if SatisfactionSurvey.objects.exists():
        return {"surveys": 0}
    rng = random.Random(seed)
    tickets = (Ticket.objects.filter(status__in=["solved", "closed"], requester__role="customer", is_spam=False)
               .select_related("requester").order_by("id")[:300])
    answered = 0
    with events_suppressed():  # history, not news: no notifications for the demo's old ratings
        for ticket in tickets:
            if ticket.status == "solved":
                survey_request_create(ticket=ticket)
            if rng.random() < 0.6:
                rating = "good" if rng.random() < 0.8 else "bad"
                comment = rng.choice(COMMENTS_GOOD if rating == "good" else COMMENTS_BAD)
                survey_answer(ticket=ticket, rating=rating, comment=comment,
                              actor=Actor(kind="customer", user=ticket.requester))
                answered += 1
    _date_as_history(rng)
    return {"surveys": answered}


def _date_as_history(rng: random.Random) -> None:
    """The services stamp the surveys "now"; the demo's tickets were solved over months, so each survey is dated
    when its ticket was solved (asked then, answered within a day), as reports over time expect."""
    for survey in SatisfactionSurvey.objects.select_related("ticket").order_by("id"):
        asked = survey.ticket.solved_at or survey.ticket.closed_at
        if asked is None:
            continue
        answered_at = asked + datetime.timedelta(minutes=rng.randint(10, 24 * 60)) if survey.answered_at else None
        SatisfactionSurvey.objects.filter(pk=survey.pk).update(created_at=asked, answered_at=answered_at)

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from atende.core.actor import Actor
from atende.surveys.models import SatisfactionSurvey
from atende.surveys.selectors import (
    access_ticket_by_survey_token,
    satisfaction_summary,
    survey_path_for_ticket,
    survey_url_for_ticket,
)
from atende.surveys.services import survey_answer
from atende.tickets.models import TicketEvent
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def solved(ticket, agent):
    ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
    return ticket


def test_survey_url_is_absolute_and_works_without_login(client, solved, settings):
    settings.SITE_URL = "https://help.example.com"
    url = survey_url_for_ticket(solved)
    assert url.startswith("https://help.example.com/surveys/rate/")
    path = url.removeprefix("https://help.example.com")
    page = client.get(path + "?rating=good")
    assert page.status_code == 200 and re.search(rb'value="good"[^>]*checked', page.content)
    response = client.post(path, {"rating": "good", "comment": "Quick and kind"})
    assert b"Thank you for your feedback" in response.content
    event = TicketEvent.objects.get(type="SURVEY_ANSWERED")
    assert event.actor_user == solved.requester and event.data["new"] == "good"
    assert SatisfactionSurvey.objects.get().comment == "Quick and kind"


def test_tampered_expired_and_foreign_tokens(client, solved, customer, settings):
    path = survey_path_for_ticket(solved)
    token = path.split("/")[-2]
    tampered = client.post(reverse("surveys:rate", args=[token[:-2] + "zz"]), {"rating": "bad"})
    assert tampered.status_code == 400 and b"not valid" in tampered.content
    other = make_ticket(subject="Someone else's")
    # a validly signed link naming another person's ticket (as if the requester had changed) is refused
    from atende.surveys.tokens import make_token

    foreign = client.get(reverse("surveys:rate", args=[make_token(ticket_id=other.pk,
                                                                  requester_id=solved.requester_id)]))
    assert foreign.status_code == 400 and b"not available" in foreign.content
    settings.SURVEY_TOKEN_MAX_AGE = -1
    expired = client.post(path, {"rating": "bad"})
    assert expired.status_code == 400 and b"expired" in expired.content
    assert not TicketEvent.objects.filter(type="SURVEY_ANSWERED").exists()


def test_missing_rating_is_a_form_error(client, solved):
    response = client.post(survey_path_for_ticket(solved), {"comment": "no rating"})
    assert response.status_code == 400 and b"Choose good or bad." in response.content
    assert not SatisfactionSurvey.objects.exclude(rating="").exists()


def test_portal_ticket_page_rates_and_shows_the_rating(client, customer, solved):
    client.force_login(customer)
    detail = reverse("portal:ticket", args=[solved.number])
    page = client.get(detail).content.decode()
    assert "How did we do?" in page
    # The page's link is a signed, timestamped token for this ticket (its text depends on the second it was made).
    shown = re.search(r'/surveys/rate/([^/"]+)/', page)
    assert shown and access_ticket_by_survey_token(token=shown.group(1)).pk == solved.pk
    response = client.post(survey_path_for_ticket(solved), {"rating": "bad", "comment": "Took a week", "next": detail})
    assert response["Location"] == detail
    page = client.get(detail).content.decode()
    assert "Rated bad" in page and "Took a week" in page and "Update my rating" in page
    ticket_transition(ticket=solved, to="closed", actor=Actor.for_user(customer))
    page = client.get(detail).content.decode()
    assert "Rated bad" in page and "Update my rating" not in page


def test_partials_for_ticket_and_customer(solved, customer):
    survey_answer(ticket=solved, rating="good", comment="Great", actor=Actor.for_user(customer))
    html = render_to_string("surveys/_ticket_rating.html", {"ticket": solved})
    assert "Rated good" in html and "Great" in html
    html = render_to_string("surveys/_customer_ratings.html", {"customer": customer})
    assert "1 good, 0 bad (100% satisfied)" in html and f"#{solved.number}" in html
    unrated = make_ticket(requester=customer)
    assert "No satisfaction rating" in render_to_string("surveys/_ticket_rating.html", {"ticket": unrated})


def test_summary_for_reports(customer, agent):
    for rating in ("good", "good", "bad", None):
        t = make_ticket(requester=customer)
        ticket_transition(ticket=t, to="solved", actor=Actor.for_user(agent))
        if rating:
            survey_answer(ticket=t, rating=rating, actor=Actor.for_user(customer))
        else:
            SatisfactionSurvey.objects.get_or_create(ticket=t, defaults={"customer": customer})
    summary = satisfaction_summary()
    assert summary == {"asked": 4, "good": 2, "bad": 1, "answered": 3, "score": 67, "response_rate": 75}

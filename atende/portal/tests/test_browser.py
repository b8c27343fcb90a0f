"""The whole customer journey in headless Chromium: sign up, get a suggestion, submit, read the reply,
confirm the solution and rate it."""

import re

import pytest
from django.core import mail

from atende.accounts.tests.factories import AgentFactory
from atende.core.actor import Actor
from atende.kb.tests.factories import make_article, make_section
from atende.surveys.models import SatisfactionSurvey
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_reply, ticket_transition

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.browser
def test_customer_journey(live_server, page, settings):
    settings.SITE_URL = live_server.url
    make_article(section=make_section(), title="Reset your password",
                 body="Open **Settings** and choose *Reset password*.")
    agent = AgentFactory(name="Rafael Agente")

    # Sign up, then open the verification link from the email.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_name", "Camila Cliente")
    page.fill("#id_email", "camila@cliente.example")
    page.fill("#id_password", "a-long-passphrase-42")
    page.fill("#id_password_again", "a-long-passphrase-42")
    page.click("button[type=submit].primary")
    page.wait_for_selector("text=Check your email")
    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.wait_for_selector("text=your email address is verified")

    # Typing the subject brings up a knowledge-base suggestion.
    page.goto(f"{live_server.url}/portal/requests/new/")
    page.type("#id_subject", "forgot my password", delay=20)
    suggestion = page.wait_for_selector("#kb-suggestions a[data-suggestion]")
    assert "Reset your password" in suggestion.inner_text()

    # Submit with an attachment.
    page.fill("#id_description", "The reset email never arrives.")
    page.set_input_files("#id_attachments", files=[{"name": "screenshot.png", "mimeType": "image/png",
                                                    "buffer": PNG}])
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("text=we received your request")
    ticket = Ticket.objects.get()
    assert f"#{ticket.number}" in page.inner_text(".ticket-number")
    assert ticket.attachments.get().filename == "screenshot.png"

    # The agent answers and solves it; the customer reads the reply and confirms.
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="We re-sent it: check your spam folder.")
    ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
    page.goto(f"{live_server.url}/portal/tickets/{ticket.number}/")
    page.wait_for_selector("text=check your spam folder")
    page.click("text=Yes, this solved my problem")
    page.wait_for_selector("#ticket-status:has-text('Closed')")

    # Rate the support.
    page.check("input[name=rating][value=good]")
    page.fill("#survey-comment", "Fast and friendly")
    page.click("text=Send my rating")
    page.wait_for_selector("text=Rated good")

    ticket.refresh_from_db()
    assert ticket.status == "closed"
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    assert (survey.rating, survey.comment) == ("good", "Fast and friendly")
    assert TicketEvent.objects.filter(ticket=ticket, type="SURVEY_ANSWERED").exists()

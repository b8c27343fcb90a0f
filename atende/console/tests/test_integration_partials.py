"""The console pages show what the other apps contribute: KB article picker, SLA badge, macros, ratings."""

import pytest

from atende.core.actor import Actor
from atende.surveys.services import survey_answer
from atende.tickets.choices import TicketStatus
from atende.tickets.services import ticket_transition


@pytest.mark.django_db
def test_ticket_page_offers_kb_article_picker_for_the_reply_box(client, agent, team_ticket):
    client.force_login(agent)
    html = client.get(f"/console/tickets/{team_ticket.number}/").content.decode()
    assert 'class="kb-picker" data-target="reply_body"' in html
    assert 'id="reply_body"' in html


@pytest.mark.django_db
def test_customer_profile_shows_satisfaction_ratings(client, agent, customer, team_ticket):
    ticket_transition(ticket=team_ticket, to=TicketStatus.SOLVED, actor=Actor.for_user(agent))
    client.force_login(agent)
    assert "No ratings yet." in client.get(f"/console/customers/{customer.pk}/").content.decode()
    survey_answer(ticket=team_ticket, rating="good", comment="Quick and kind help", actor=Actor.for_user(customer))
    html = client.get(f"/console/customers/{customer.pk}/").content.decode()
    assert "Quick and kind help" in html
    assert "100% satisfied" in html


@pytest.mark.django_db
def test_console_header_links_settings_for_admins_and_availability_for_agents(client, agent, admin_user):
    client.force_login(agent)
    html = client.get("/console/").content.decode()
    assert 'id="availability-select"' in html
    assert 'href="/console/automation/"' not in html
    client.force_login(admin_user)
    html = client.get("/console/").content.decode()
    for url in ("/console/sla/", "/console/automation/", "/email/quarantine/", "/integrations/webhooks/",
                "/portal/settings/branding/", "/admin/"):
        assert f'href="{url}"' in html


@pytest.mark.django_db
def test_every_console_page_carries_the_translated_shortcuts_help(client, agent, team_ticket):
    client.force_login(agent)
    for url in ("/console/", f"/console/tickets/{team_ticket.number}/", "/console/search?q=fire"):
        html = client.get(url).content.decode()
        assert html.count('id="shortcuts-help"') == 1, url

"""The ticket workspace page: who may open it, what it shows, and every write it offers."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, CollaboratorFactory, CustomerFactory, TeamFactory
from atende.console.views.ticket import TIMELINE_LATEST
from atende.core.actor import Actor
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Message, Ticket, TicketEvent, TicketLink
from atende.tickets.services import IncomingFile, message_add_note, ticket_update
from atende.tickets.services.settings import ticket_settings_update
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def url(name, ticket, **extra):
    return reverse(f"console:{name}", kwargs={"number": ticket.number, **extra})


def events(ticket, *types):
    return list(TicketEvent.objects.filter(ticket=ticket, type__in=types).order_by("id"))


# Who may open the page -----------------------------------------------------------------------------------

def test_anonymous_is_sent_to_log_in(client, team_ticket):
    response = client.get(url("ticket", team_ticket))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("who, status", [
    ("requester", 404), ("other_customer", 404), ("outside_collaborator", 404), ("restricted_outsider", 404),
    ("agent", 200), ("collaborator", 200), ("admin", 200),
])
def test_permission_matrix(client, team_ticket, agent, collaborator, admin_user, other_customer, who, status):
    restricted = AgentFactory(restrict_to_teams=True)
    restricted.teams.add(TeamFactory())
    outside = CollaboratorFactory()
    users = {"requester": team_ticket.requester, "other_customer": other_customer, "outside_collaborator": outside,
             "restricted_outsider": restricted, "agent": agent, "collaborator": collaborator, "admin": admin_user}
    client.force_login(users[who])
    response = client.get(url("ticket", team_ticket))
    assert response.status_code == status
    if status == 200:
        assert team_ticket.subject in response.content.decode()
    for partial in ("ticket_timeline", "ticket_panel", "ticket_related"):
        assert client.get(url(partial, team_ticket)).status_code == status


def test_missing_ticket_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("console:ticket", kwargs={"number": 99999})).status_code == 404


# What the page shows ------------------------------------------------------------------------------------

def test_conversation_shows_replies_notes_collapsed_events_and_image_previews(client, agent, other_agent,
                                                                            team_ticket):
    actor = Actor.for_user(other_agent)
    note = message_add_note(ticket=team_ticket, actor=actor, body_text="Checked the logs",
                            attachments=[IncomingFile(filename="screen.png", content=PNG, content_type="image/png")])
    ticket_update(ticket=team_ticket, actor=actor, changes={"priority": "urgent", "tags": ["vip"]})
    client.force_login(agent)
    html = client.get(url("ticket", team_ticket)).content.decode()
    assert 'class="message reply"' in html and "It is on fire." in html
    assert f'class="message note" id="message-{note.pk}"' in html
    assert "Internal note" in html
    attachment = note.attachments.get()
    assert f'<img src="{reverse("tickets:attachment", args=[attachment.pk])}"' in html
    # the priority and tag changes sit in one collapsed group, with readable sentences
    assert "<details><summary>2 changes" in html
    assert "Priority: Normal → Urgent" in html and "Tags: +vip" in html
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 200


def test_requester_recent_tickets_and_links_are_listed(client, agent, team_ticket, customer):
    older = make_ticket(requester=customer, subject="Earlier invoice question")
    problem = make_ticket(requester=CustomerFactory(), subject="Outage", type="problem")
    from atende.tickets.services import ticket_link

    ticket_link(source=problem, target=team_ticket, kind="problem", actor=Actor.for_user(agent))
    client.force_login(agent)
    page = client.get(url("ticket", team_ticket)).content.decode()
    # The page names the requester at once and loads the related tickets right after it.
    assert team_ticket.requester.email in page
    assert f'hx-get="{url("ticket_related", team_ticket)}" hx-trigger="load,' in page
    html = client.get(url("ticket_related", team_ticket)).content.decode()
    assert f"#{older.number} Earlier invoice question" in html
    assert f"#{problem.number} Outage" in html and "Incident of problem" in html


def test_collaborator_sees_read_only_fields_and_can_only_write_notes(client, collaborator, team_ticket):
    client.force_login(collaborator)
    html = client.get(url("ticket", team_ticket)).content.decode()
    assert 'id="panel-form"' not in html
    assert 'value="note"' in html and 'value="reply"' not in html
    response = client.post(url("ticket_reply", team_ticket), {"kind": "reply", "body": "Hello customer"}, **HTMX)
    assert response.status_code == 200
    assert not Message.objects.filter(body_text="Hello customer").exists()
    response = client.post(url("ticket_reply", team_ticket), {"kind": "note", "body": "Seen from billing"}, **HTMX)
    assert Message.objects.filter(ticket=team_ticket, kind="note", body_text="Seen from billing").exists()
    assert client.post(url("ticket_fields", team_ticket), {"subject": "x"}, **HTMX).status_code == 403


def test_optional_partials_render_only_when_their_template_exists(client, agent, team_ticket, settings, tmp_path):
    client.force_login(agent)
    assert "SLA-BADGE-SLOT" not in client.get(url("ticket", team_ticket)).content.decode()
    (tmp_path / "sla").mkdir()
    (tmp_path / "sla" / "_ticket_badge.html").write_text("<span>SLA-BADGE-SLOT #{{ ticket.number }}</span>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    html = client.get(url("ticket", team_ticket)).content.decode()
    assert f"SLA-BADGE-SLOT #{team_ticket.number}" in html


# Reply box ------------------------------------------------------------------------------------------------

def test_reply_and_set_pending(client, agent, team_ticket):
    client.force_login(agent)
    response = client.post(url("ticket_reply", team_ticket), {
        "kind": "reply", "body": "Could you send a screenshot?", "set_status": "pending",
        "expected_version": team_ticket.version}, **HTMX)
    assert response.status_code == 200
    team_ticket.refresh_from_db()
    assert team_ticket.status == "pending"
    reply = Message.objects.get(ticket=team_ticket, body_text="Could you send a screenshot?")
    assert reply.kind == "reply" and reply.author == agent
    assert [e.data["new"] for e in events(team_ticket, TicketEventType.STATUS_CHANGED)] == ["pending"]
    triggers = json.loads(response["HX-Trigger"])
    assert triggers["atende:ticket-version"]["version"] == team_ticket.version
    assert "atende:timeline-refresh" in triggers
    # the fresh form carries the new version, so the agent's next reply is not flagged as stale
    assert f'name="expected_version" value="{team_ticket.version}"' in response.content.decode()


def test_reply_with_attachment(client, agent, team_ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(agent)
    client.post(url("ticket_reply", team_ticket), {
        "kind": "reply", "body": "Here is the form", "expected_version": team_ticket.version,
        "attachments": [SimpleUploadedFile("form.pdf", b"%PDF-1.4 hello", content_type="application/pdf")]}, **HTMX)
    message = Message.objects.get(body_text="Here is the form")
    assert [a.filename for a in message.attachments.all()] == ["form.pdf"]


def test_stale_reply_warns_then_sends_anyway(client, agent, other_agent, team_ticket):
    loaded_version = team_ticket.version
    ticket_update(ticket=team_ticket, actor=Actor.for_user(other_agent), changes={"priority": "high"})
    client.force_login(agent)
    form = {"kind": "reply", "body": "We are on it", "expected_version": loaded_version}
    response = client.post(url("ticket_reply", team_ticket), form, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This ticket changed while you were writing." in html and 'id="send-anyway"' in html
    assert "We are on it" in html  # the draft is kept
    assert not Message.objects.filter(body_text="We are on it").exists()
    assert "atende:timeline-refresh" in json.loads(response["HX-Trigger"])
    client.post(url("ticket_reply", team_ticket), {**form, "force": "1"}, **HTMX)
    assert Message.objects.filter(ticket=team_ticket, body_text="We are on it", kind="reply").count() == 1


def test_empty_reply_is_a_form_error(client, agent, team_ticket):
    client.force_login(agent)
    response = client.post(url("ticket_reply", team_ticket), {"kind": "reply", "body": "  "}, **HTMX)
    assert "Write a message or attach a file." in response.content.decode()
    assert team_ticket.messages.count() == 1


def test_reply_without_htmx_redirects_back(client, agent, team_ticket):
    client.force_login(agent)
    response = client.post(url("ticket_reply", team_ticket), {"kind": "note", "body": "plain form"})
    assert response.status_code == 302 and response["Location"] == url("ticket", team_ticket)


# Side panel ---------------------------------------------------------------------------------------------

def panel_data(ticket, **changes):
    data = {"subject": ticket.subject, "requester": ticket.requester.email, "team": ticket.team_id or "",
            "assignee": ticket.assignee_id or "", "status": ticket.status, "priority": "",
            "urgency": ticket.urgency, "impact": ticket.impact, "type": ticket.type, "category": "",
            "tags": "", "expected_version": ticket.version, "resolution_summary": ""}
    data.update(changes)
    return data


def test_panel_changes_only_what_was_edited(client, agent, other_agent, team_ticket):
    client.force_login(agent)
    response = client.post(url("ticket_fields", team_ticket), panel_data(
        team_ticket, priority="urgent", tags="vip, billing", assignee=other_agent.pk, status="open"), **HTMX)
    assert response.status_code == 200
    team_ticket.refresh_from_db()
    assert (team_ticket.priority, team_ticket.assignee, team_ticket.status) == ("urgent", other_agent, "open")
    assert sorted(team_ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    types = set(TicketEvent.objects.filter(ticket=team_ticket).values_list("type", flat=True))
    assert {"PRIORITY_CHANGED", "TAGS_CHANGED", "ASSIGNEE_CHANGED", "STATUS_CHANGED"} <= types
    assert "FIELDS_CHANGED" not in types and "TEAM_CHANGED" not in types  # untouched fields: no events


def test_panel_refuses_a_stale_edit(client, agent, other_agent, team_ticket):
    loaded = panel_data(team_ticket, priority="low")
    ticket_update(ticket=team_ticket, actor=Actor.for_user(other_agent), changes={"subject": "Renamed"})
    client.force_login(agent)
    html = client.post(url("ticket_fields", team_ticket), loaded, **HTMX).content.decode()
    assert "Someone else changed this ticket" in html
    assert 'value="Renamed"' in html  # the panel now shows the current values
    team_ticket.refresh_from_db()
    assert team_ticket.priority == "normal"


def test_solving_without_the_required_summary_is_a_readable_error(client, agent, team_ticket):
    ticket_settings_update(require_resolution_summary=True)
    client.force_login(agent)
    html = client.post(url("ticket_fields", team_ticket), panel_data(team_ticket, status="solved"),
                       **HTMX).content.decode()
    assert "A resolution summary is required" in html
    team_ticket.refresh_from_db()
    assert team_ticket.status == "new"
    client.post(url("ticket_fields", team_ticket),
                panel_data(team_ticket, status="solved", resolution_summary="Replaced the fuser"), **HTMX)
    team_ticket.refresh_from_db()
    assert (team_ticket.status, team_ticket.resolution_summary) == ("solved", "Replaced the fuser")


def test_unknown_requester_email_is_a_field_error(client, agent, team_ticket):
    client.force_login(agent)
    html = client.post(url("ticket_fields", team_ticket), panel_data(team_ticket, requester="nobody@x.example"),
                       **HTMX).content.decode()
    assert "No contact with this address" in html


def test_assign_to_me(client, agent, team_ticket):
    client.force_login(agent)
    response = client.post(url("ticket_assign_me", team_ticket), **HTMX)
    team_ticket.refresh_from_db()
    assert team_ticket.assignee == agent
    assert events(team_ticket, TicketEventType.ASSIGNEE_CHANGED)[0].data["new"]["id"] == agent.pk
    assert 'id="assign-me" disabled' in response.content.decode()


def test_moving_the_ticket_out_of_a_restricted_agents_view_sends_them_back_to_the_queues(client, team_ticket):
    restricted = AgentFactory(restrict_to_teams=True)
    team_ticket.team.members.add(restricted)
    other_team = TeamFactory()
    client.force_login(restricted)
    response = client.post(url("ticket_fields", team_ticket), panel_data(team_ticket, team=other_team.pk), **HTMX)
    assert json.loads(response["HX-Location"])["path"] == reverse("console:queues")


# Followers, links, merge -------------------------------------------------------------------------------

def test_followers_add_and_remove(client, agent, other_agent, team_ticket):
    client.force_login(agent)
    client.post(url("ticket_followers", team_ticket), {"email": other_agent.email.upper()}, **HTMX)
    assert list(team_ticket.followers.all()) == [other_agent]
    html = client.post(url("ticket_followers", team_ticket), {"email": "ghost@example.com"}, **HTMX).content.decode()
    assert "No user with this address." in html
    client.post(url("ticket_followers", team_ticket), {"remove": other_agent.pk}, **HTMX)
    assert not team_ticket.followers.exists()
    assert len(events(team_ticket, TicketEventType.FOLLOWERS_CHANGED)) == 2


def test_link_and_unlink(client, agent, team_ticket, customer):
    other = make_ticket(requester=customer, subject="Same printer")
    client.force_login(agent)
    client.post(url("ticket_links", team_ticket), {"number": other.number, "kind": "related"}, **HTMX)
    assert TicketLink.objects.filter(source=team_ticket, target=other, kind="related").exists()
    html = client.get(url("ticket_related", team_ticket)).content.decode()
    assert f"#{other.number} Same printer" in html
    client.post(url("ticket_links", team_ticket), {"number": other.number, "kind": "related", "remove": "1"}, **HTMX)
    assert not TicketLink.objects.exists()
    html = client.post(url("ticket_links", team_ticket), {"number": 424242, "kind": "related"},
                       **HTMX).content.decode()
    assert "Ticket #424242 was not found." in html


def test_merge_moves_the_conversation_and_opens_the_target(client, agent, team_ticket, customer):
    target = make_ticket(requester=customer, subject="Original report")
    client.force_login(agent)
    response = client.post(url("ticket_merge", team_ticket), {"number": target.number}, **HTMX)
    assert json.loads(response["HX-Location"])["path"] == url("ticket", target)
    team_ticket.refresh_from_db()
    assert team_ticket.merged_into == target and team_ticket.status == "closed"
    assert target.messages.filter(body_text="It is on fire.").exists()
    html = client.post(url("ticket_merge", target), {"number": target.number}, **HTMX).content.decode()
    assert "cannot be merged into itself" in html


def test_closed_ticket_offers_no_reply_box(client, agent, team_ticket, customer):
    target = make_ticket(requester=customer)
    client.force_login(agent)
    client.post(url("ticket_merge", team_ticket), {"number": target.number})
    html = client.get(url("ticket", team_ticket)).content.decode()
    assert 'id="reply-form"' not in html and "This ticket is closed" in html
    assert Ticket.objects.get(pk=team_ticket.pk).is_closed


def test_page_query_count_does_not_grow_with_the_conversation(client, agent, other_agent, team_ticket,
                                                             django_assert_max_num_queries):
    for i in range(15):
        message_add_note(ticket=team_ticket, actor=Actor.for_user(other_agent), body_text=f"note {i}")
    client.force_login(agent)
    client.get(url("ticket", team_ticket))  # warm caches (settings row, templates)
    with django_assert_max_num_queries(45):
        response = client.get(url("ticket", team_ticket))
    page = response.content.decode()
    # The page opens on the newest entries (the rest load on request: test_query_counts).
    assert page.count('class="message note"') == TIMELINE_LATEST and ">note 14<" in page


@pytest.mark.parametrize("locale, time_zone", [("", ""), ("pt-br", "America/Sao_Paulo"), ("en", "Asia/Kolkata")])
def test_timeline_times_are_in_the_readers_zone_and_language(client, team_ticket, agent, locale, time_zone):
    """Each message and change shows its time as the ``date`` filter writes it for the reader: the ISO instant in
    ``datetime``, the long form on hover, the short form as text."""
    import zoneinfo

    from django.template.defaultfilters import date as date_filter
    from django.utils import timezone, translation

    agent.locale, agent.time_zone = locale, time_zone
    agent.save(update_fields=["locale", "time_zone"])
    message = message_add_note(ticket=team_ticket, actor=Actor.for_user(agent), body_text="Checked the logs")
    ticket_update(ticket=Ticket.objects.get(pk=team_ticket.pk), actor=Actor.for_user(agent),
                  changes={"priority": "high"})
    change = TicketEvent.objects.filter(ticket=team_ticket, type=TicketEventType.PRIORITY_CHANGED).get()
    client.force_login(agent)
    for page in (client.get(url("ticket", team_ticket)).content.decode(),
                 client.get(url("ticket_timeline", team_ticket) + "?all=1", **HTMX).content.decode()):
        zone = zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_default_timezone()
        with translation.override(locale or "en"), timezone.override(zone):
            def shown(instant, fmt):
                return date_filter(timezone.localtime(instant), fmt)

            assert (f'<time class="muted small" datetime="{shown(message.created_at, "c")}" '
                    f'title="{shown(message.created_at, "DATETIME_FORMAT")}">'
                    f'{shown(message.created_at, "SHORT_DATETIME_FORMAT")}</time>') in page
            assert (f'<time datetime="{shown(change.created_at, "c")}">'
                    f'{shown(change.created_at, "SHORT_DATETIME_FORMAT")}</time>') in page

"""Queue pages: each built-in queue, saved views, permissions, keyset pages and query caps."""

import datetime
from html import escape

import pytest
from django.urls import reverse
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory, CollaboratorFactory, TeamFactory
from atende.console.selectors import queue_counts, queue_get, queue_list_for_user, queue_tickets_page
from atende.console.services import saved_view_create
from atende.core.actor import Actor
from atende.tickets.filters import TicketFilters
from atende.tickets.models import Message
from atende.tickets.services import message_add_note, message_add_reply, ticket_set_sla, ticket_transition
from atende.tickets.tests.factories import make_ticket

URL = reverse("console:queues")


def _numbers_in(response):
    return [t.number for t in response.context["page"].items]


@pytest.fixture
def desk(db, team, agent, other_agent, customer):
    """One ticket per interesting state, created and moved through the services."""
    actor = Actor.for_user(agent)
    t = {
        "mine_new": make_ticket(actor=actor, requester=customer, team=team, assignee=agent, subject="Mine new"),
        "mine_open": make_ticket(actor=actor, requester=customer, team=team, assignee=agent, subject="Mine open"),
        "theirs": make_ticket(actor=actor, requester=customer, team=team, assignee=other_agent, subject="Theirs"),
        "unassigned": make_ticket(actor=actor, requester=customer, team=team, subject="Unassigned team"),
        "no_team": make_ticket(actor=actor, requester=customer, subject="No team"),
        "pending": make_ticket(actor=actor, requester=customer, team=team, assignee=agent, subject="Pending"),
        "on_hold": make_ticket(actor=actor, requester=customer, team=team, subject="On hold"),
        "solved": make_ticket(actor=actor, requester=customer, team=team, assignee=agent, subject="Solved"),
    }
    ticket_transition(ticket=t["mine_open"], to="open", actor=actor)
    ticket_transition(ticket=t["pending"], to="pending", actor=actor)
    ticket_transition(ticket=t["on_hold"], to="on_hold", actor=actor)
    ticket_transition(ticket=t["solved"], to="solved", actor=actor)
    soon = timezone.now() + datetime.timedelta(hours=1)
    later = timezone.now() + datetime.timedelta(hours=3)
    far = timezone.now() + datetime.timedelta(hours=10)  # outside the "breaching soon" window
    ticket_set_sla(ticket=t["theirs"], actor=Actor.system(), policy_id=1, due={"first_reply": later})
    ticket_set_sla(ticket=t["mine_new"], actor=Actor.system(), policy_id=1, due={"first_reply": far})
    ticket_set_sla(ticket=t["unassigned"], actor=Actor.system(), policy_id=1, due={"first_reply": soon})
    return t


@pytest.mark.parametrize(("view", "expected"), [
    ("mine", {"mine_new", "mine_open"}),
    ("unassigned", {"unassigned"}),
    ("all_open", {"mine_new", "mine_open", "theirs", "unassigned", "no_team"}),
    ("pending", {"pending"}),
    ("on_hold", {"on_hold"}),
    ("solved", {"solved"}),
    ("breaching", {"unassigned", "theirs"}),
])
def test_builtin_queue_lists_its_tickets(client, desk, agent, view, expected):
    client.force_login(agent)
    response = client.get(URL, {"view": view})
    assert response.status_code == 200
    assert set(_numbers_in(response)) == {desk[k].number for k in expected}
    for key in expected:
        assert desk[key].subject in response.content.decode()


def test_breaching_soon_is_ordered_by_due_time(client, desk, agent):
    client.force_login(agent)
    response = client.get(URL, {"view": "breaching"})
    assert _numbers_in(response) == [desk["unassigned"].number, desk["theirs"].number]


def test_default_queue_is_my_open_tickets_and_unknown_queue_is_404(client, desk, agent):
    client.force_login(agent)
    response = client.get(URL)
    assert response.context["queue"].key == "mine"
    assert client.get(URL, {"view": "nope"}).status_code == 404


def test_customers_and_visitors_never_see_queues(client, desk, customer):
    assert client.get(URL).status_code == 302  # to the login page
    client.force_login(customer)
    assert client.get(URL).status_code == 404
    assert client.get(reverse("console:queue_nav")).status_code == 404


def test_restricted_agent_sees_only_team_tickets(client, desk, team):
    restricted = AgentFactory(restrict_to_teams=True)
    other_team = TeamFactory()
    other_team.members.add(restricted)
    client.force_login(restricted)
    response = client.get(URL, {"view": "all_open"})
    assert _numbers_in(response) == []  # every desk ticket is in ``team`` or in no team
    team.members.add(restricted)
    restricted = type(restricted).objects.get(pk=restricted.pk)  # forget the cached team ids
    client.force_login(restricted)
    response = client.get(URL, {"view": "all_open"})
    assert desk["no_team"].number not in _numbers_in(response)
    assert desk["unassigned"].number in _numbers_in(response)


def test_queue_counts_follow_visibility_and_cap(desk, agent):
    queues = queue_list_for_user(user=agent)
    counts = queue_counts(user=agent, queues=queues)
    assert counts["mine"] == 2 and counts["all_open"] == 5 and counts["breaching"] == 2
    assert queue_counts(user=agent, queues=queues, cap=3)["all_open"] == 3


def test_queue_nav_shows_counts_and_saved_views(client, desk, agent, team):
    saved_view_create(user=agent, name="Team VIP", filters=TicketFilters.from_dict({"status": ["active"]}), team=team)
    client.force_login(agent)
    response = client.get(reverse("console:queue_nav"), {"current": "mine"})
    html = response.content.decode()
    assert 'data-queue-count="mine">2' in html
    assert 'data-queue-count="all_open">5' in html
    assert "Team VIP" in html
    assert 'aria-current="page"' in html


def test_queue_nav_counts_are_cached_until_the_next_ticket_change(client, desk, agent, team,
                                                                   django_assert_max_num_queries):
    client.force_login(agent)
    nav = reverse("console:queue_nav")
    assert 'data-queue-count="mine">2' in client.get(nav).content.decode()
    # a second load reuses the counts: no per-queue COUNT queries
    with django_assert_max_num_queries(6):
        assert 'data-queue-count="mine">2' in client.get(nav).content.decode()
    # the agent's own change shows at once
    make_ticket(actor=Actor.for_user(agent), team=team, assignee=agent, subject="Just now")
    assert 'data-queue-count="mine">3' in client.get(nav).content.decode()


def test_keyset_pages_cover_every_ticket_once(client, db, agent, team):
    actor = Actor.for_user(agent)
    made = {make_ticket(actor=actor, team=team, subject=f"T{i}").number for i in range(23)}
    client.force_login(agent)
    seen, url, params = [], URL, {"view": "all_open", "size": 10}
    while True:
        response = client.get(url, params)
        seen.extend(_numbers_in(response))
        page = response.context["page"]
        if not page.has_next:
            break
        params = {"view": "all_open", "size": 10, "cursor": page.next_cursor}
    assert len(seen) == 23 and set(seen) == made


def test_a_tampered_cursor_falls_back_to_the_first_page(client, desk, agent):
    client.force_login(agent)
    response = client.get(URL, {"view": "all_open", "cursor": "garbage"})
    assert response.status_code == 200
    assert "invalid" in response.content.decode()
    assert len(_numbers_in(response)) == 5


def test_list_page_query_count_does_not_grow_with_page_size(client, db, agent, team, django_assert_max_num_queries):
    actor = Actor.for_user(agent)
    for i in range(26):
        ticket = make_ticket(actor=actor, team=team, assignee=agent, tags=["vip"], subject=f"Load {i}")
        ticket_set_sla(ticket=ticket, actor=Actor.system(), policy_id=1,
                       due={"first_reply": timezone.now() + datetime.timedelta(minutes=5 * i)})
    saved = saved_view_create(user=agent, name="All columns", filters=TicketFilters.from_dict({"tags": ["vip"]}),
                              columns=["number", "subject", "requester", "organization", "status", "priority",
                                       "team", "assignee", "category", "type", "channel", "tags", "created_at",
                                       "updated_at", "sla_due_at"])
    client.force_login(agent)
    # session, user, the user's teams and the view (a saved view), the page's keys then its rows (+ tags when
    # shown; a key query per status for queues of several statuses), the latest message of each row (one query
    # for the hover previews), agents and teams for the bulk bar
    cap = 10
    for size in (10, 25):
        for view in ("mine", "all_open", "breaching"):
            with django_assert_max_num_queries(cap):
                response = client.get(URL, {"view": view, "size": size})
            assert len(response.context["page"].items) == size
        with django_assert_max_num_queries(cap):
            response = client.get(reverse("console:saved_view", args=[saved.pk]), {"size": size})
        assert len(response.context["page"].items) == size
        cursor = response.context["page"].next_cursor
        with django_assert_max_num_queries(cap):  # a later page costs the same
            response = client.get(reverse("console:saved_view", args=[saved.pk]), {"size": size, "cursor": cursor})
        assert response.context["page"].items


def test_every_column_renders_escaped_cells(client, db, agent, team):
    actor = Actor.for_user(agent)
    overdue = make_ticket(actor=actor, team=team, tags=["vip", "b<r>"], subject="<b>Bold</b> & co")
    ticket_set_sla(ticket=overdue, actor=Actor.system(), policy_id=1,
                   due={"first_reply": timezone.now() - datetime.timedelta(hours=3)})
    upcoming = make_ticket(actor=actor, team=team, assignee=agent, tags=["vip"], subject="Later")
    ticket_set_sla(ticket=upcoming, actor=Actor.system(), policy_id=1,
                   due={"first_reply": timezone.now() + datetime.timedelta(hours=2)})
    saved = saved_view_create(user=agent, name="All columns", filters=TicketFilters.from_dict({"tags": ["vip"]}),
                              columns=["number", "subject", "team", "assignee", "tags", "created_at", "sla_due_at"])
    client.force_login(agent)
    html = client.get(reverse("console:saved_view", args=[saved.pk])).content.decode()
    url = reverse("console:ticket", args=[overdue.number])
    assert f'<td class="col-number" data-label="Number"><a href="{url}">#{overdue.number}</a></td>' in html
    first = " ".join(Message.objects.get(ticket=overdue).body_text.split())
    assert (f'<a href="{url}" class="subject" title="&lt;b&gt;Bold&lt;/b&gt; &amp; co&#10;{escape(first)}">'
            '&lt;b&gt;Bold&lt;/b&gt; &amp; co</a>') in html
    assert '<span class="badge tag">b&lt;r&gt;</span> <span class="badge tag">vip</span>' in html
    assert '<span class="muted">Unassigned</span>' in html
    assert f'data-label="Team">{team.name}</td>' in html
    assert "0\xa0minutes ago</time>" in html
    assert "overdue by 3\xa0hours</time>" in html
    assert ">in 1\xa0hour, 59\xa0minutes</time>" in html
    assert "<b>Bold" not in html


def test_htmx_refresh_returns_only_the_list(client, desk, agent):
    client.force_login(agent)
    response = client.get(URL, {"view": "mine"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and 'class="list ticket-list"' in html


def test_page_listens_for_live_ticket_changes(client, desk, agent):
    client.force_login(agent)
    html = client.get(URL).content.decode()
    assert 'hx-trigger="atende:ticket-list-stale from:body' in html  # lists.js turns changes into it when idle
    assert "console/realtime.js" in html and "console/lists.js" in html and "console/shortcuts.js" in html
    assert reverse("console:search") in html


def test_admin_sees_settings_links_agent_does_not(client, desk, agent, admin_user):
    client.force_login(agent)
    assert "/console/sla/" not in client.get(URL).content.decode()
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert "/console/sla/" in html and "/console/automation/" in html


def test_collaborator_reads_queues_without_bulk_actions(client, desk, team):
    collaborator = CollaboratorFactory()
    team.members.add(collaborator)
    client.force_login(collaborator)
    response = client.get(URL, {"view": "all_open"})
    assert response.status_code == 200
    assert response.context["bulk_bar"] is None
    assert desk["no_team"].number not in _numbers_in(response)  # collaborators see their teams only


def test_selector_page_for_saved_view_applies_its_sort(desk, agent):
    view = saved_view_create(user=agent, name="Oldest first", filters=TicketFilters.from_dict({"status": ["active"]}),
                             sort="created_at")
    queue = queue_get(user=agent, view_id=view.pk)
    page = queue_tickets_page(user=agent, queue=queue, size=10)
    created = [t.created_at for t in page.items]
    assert created == sorted(created) and len(created) == 5


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_relative_times_in_rows_read_as_the_timesince_filter(language):
    from django.utils import translation
    from django.utils.timesince import timesince

    from atende.console.rows import _Clock

    now = timezone.now()
    with translation.override(language):
        clock = _Clock(now)
        for delta in (datetime.timedelta(minutes=3), datetime.timedelta(hours=26),
                      datetime.timedelta(days=40, hours=5), datetime.timedelta(days=800)):
            assert clock.since(now - delta) == timesince(now - delta, now)


def test_sla_column_shows_time_to_the_next_target_coloured_by_urgency(client, desk, agent):
    now = timezone.now()
    ticket_set_sla(ticket=desk["mine_open"], actor=Actor.system(), policy_id=1,
                   due={"first_reply": now - datetime.timedelta(hours=2)})
    ticket_set_sla(ticket=desk["unassigned"], actor=Actor.system(), policy_id=1,
                   due={"first_reply": now + datetime.timedelta(minutes=40)})
    client.force_login(agent)
    page = client.get(URL, {"view": "all_open"}, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert '<th scope="col" class="col-sla_due_at">Próxima meta de SLA</th>' in page

    def sla_cell(key):
        row = page.split(f'data-ticket-number="{desk[key].number}"', 1)[1].split("</tr>", 1)[0]
        return row.split('class="col-sla_due_at"', 1)[1].split("</td>", 1)[0]

    assert 'class="sla sla-overdue"' in sla_cell("mine_open") and "vencido há" in sla_cell("mine_open")
    assert 'class="sla sla-soon"' in sla_cell("unassigned")
    assert 'class="sla sla-later"' in sla_cell("theirs") and 'class="sla sla-later"' in sla_cell("mine_new")
    assert sla_cell("no_team").strip().endswith("—")


def test_rows_show_assignee_initials_and_preview_the_latest_message_on_hover(client, db, agent, team, customer):
    ana = AgentFactory(name="Ana Maria Souza")
    team.members.add(ana)
    ticket = make_ticket(actor=Actor.for_user(agent), requester=customer, team=team, assignee=ana,
                         subject='Printer "jammed" <again>')
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="It is\n  still <b>stuck</b>")
    message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text="Ordered a new & better one")
    silent = make_ticket(actor=Actor.for_user(agent), requester=customer, team=team, subject="No words")
    Message.objects.filter(ticket=silent).delete()
    client.force_login(agent)
    page = client.get(URL, {"view": "all_open"}).content.decode()
    row = page.split(f'data-ticket-number="{ticket.number}"', 1)[1].split("</tr>", 1)[0]
    assert (f'<span class="avatar avatar-{ana.pk % 8}" aria-hidden="true">AS</span> Ana Maria Souza') in row
    assert ('title="Printer &quot;jammed&quot; &lt;again&gt;&#10;Ordered a new &amp; better one"') in row
    silent_row = page.split(f'data-ticket-number="{silent.number}"', 1)[1].split("</tr>", 1)[0]
    assert 'title="No words"' in silent_row and "Unassigned" in silent_row

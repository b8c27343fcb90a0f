"""The side panel's fields are written in Python as the page opens (``console/panel_fields.py``): the markup must
be what ``TicketFieldsForm`` rendered by ``_ticket_panel.html`` wrote, for every status, empty and set values,
manual and automatic priority, custom fields with and without help text, every value escaped, in each language."""

from itertools import product

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.console.forms_workspace import TicketFieldsForm
from atende.console.options import ticket_options
from atende.console.panel_fields import panel_fields_html
from atende.core import generations
from atende.tickets.choices import Level, TicketPriority, TicketStatus, TicketType
from atende.tickets.models import Category, CustomField

NASTY = 'Fix <b>"this"</b> & that\'s it'


def _panel(ticket, user, **context) -> str:
    return render_to_string("console/_ticket_panel.html", {"ticket": ticket, "user": user, "can_edit": True,
                                                            "optional_partials": {}, **context})


@pytest.fixture
def desk(team_ticket, agent):
    TeamFactory(name="Zeta <b>team</b> & co")
    AgentFactory(name='Ann "A" <a>', email="ann@example.com")
    AgentFactory(name="", email="noname&<x>@example.com")
    top = Category.objects.create(name="Tech & <stuff>")
    Category.objects.create(name='Login "SSO"', parent=top)
    CustomField.objects.create(key="plan", label="Plan <x>", label_pt_br="Plano <x>", kind="dropdown", position=1,
                               choices=["free", "pro", "a&b"],
                               choice_labels={"free": "Free & <b>basic</b>", "pro": "Pro", "a&b": '"AB"'},
                               choice_labels_pt_br={"free": "Grátis"}, help_text="Which <plan> & why")
    CustomField.objects.create(key="order", label="Order", kind="text", position=2)
    CustomField.objects.create(key="ref", label="Ref", kind="text", position=3, help_text='From "ERP" <b>')
    generations.forget()
    return team_ticket


def _cases(ticket, agent):
    teams = [None, ticket.team_id]
    assignees = [None, agent.pk]
    categories = [None, Category.objects.get(parent__isnull=False).pk]
    for status, manual, (team, assignee, category), subject, custom in product(
            TicketStatus.values, [False, True], zip(teams, assignees, categories, strict=True), [NASTY, ""],
            [{}, {"plan": "a&b", "order": NASTY, "ref": 12}, {"plan": "gone", "order": ""}]):
        ticket.status = status
        ticket.priority_manual = manual
        ticket.priority = TicketPriority.HIGH if manual else TicketPriority.LOW
        ticket.urgency, ticket.impact, ticket.type = Level.HIGH, Level.LOW, TicketType.PROBLEM
        ticket.team_id, ticket.assignee_id, ticket.category_id = team, assignee, category
        ticket.subject = subject
        ticket.resolution_summary = NASTY if subject else ""
        ticket.custom_fields = custom
        yield [NASTY, "b-tag"] if subject else []


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_panel_fields_are_what_the_form_wrote(desk, agent, language):
    ticket = desk
    ticket.requester.email = 'o"neil&<x>@example.com'
    written = []
    with translation.override(language):
        for tags in _cases(ticket, agent):
            form = TicketFieldsForm(ticket=ticket, tag_names=tags)
            ours = panel_fields_html(ticket, tag_names=tags, options=ticket_options())
            assert ours is not None
            assert _panel(ticket, agent, panel_fields=ours) == _panel(ticket, agent, panel_form=form), (
                ticket.status, ticket.priority_manual, ticket.custom_fields)
            written.append(str(ours))
    assert len(written) == len(TicketStatus.values) * 2 * 2 * 2 * 3
    everything = "".join(written)
    for escaped in ("&lt;b&gt;&quot;this&quot;&lt;/b&gt; &amp; that&#x27;s it", "o&quot;neil&amp;&lt;x&gt;@",
                    "Zeta &lt;b&gt;team&lt;/b&gt; &amp; co", "Which &lt;plan&gt; &amp; why", 'value="a&amp;b" selected'):
        assert escaped in everything
    assert "<b>" not in everything and "<x>" not in everything


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["number", "date", "checkbox"])
def test_a_custom_field_of_another_kind_is_left_to_the_form(desk, agent, client, kind):
    CustomField.objects.create(key="other", label="Other", kind=kind, position=9)
    generations.forget()
    assert panel_fields_html(desk, tag_names=[], options=ticket_options()) is None
    client.force_login(agent)
    page = client.get(f"/console/tickets/{desk.number}/panel/").content.decode()
    assert 'name="cf_other"' in page and 'name="cf_plan"' in page


@pytest.mark.django_db
def test_the_panel_builds_no_form_as_the_page_opens(desk, agent, client, monkeypatch):
    built = []
    original = TicketFieldsForm.__init__

    def counting(self, *args, **kwargs):
        built.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TicketFieldsForm, "__init__", counting)
    client.force_login(agent)
    for url in (f"/console/tickets/{desk.number}/", f"/console/tickets/{desk.number}/panel/"):
        page = client.get(url).content.decode()
        assert 'id="panel_subject"' in page and 'name="cf_plan"' in page
    assert built == []
    # A submission with an error is shown by the form, with its error.
    response = client.post(f"/console/tickets/{desk.number}/fields/",
                           {"subject": "", "requester": desk.requester.email, "status": desk.status,
                            "urgency": desk.urgency, "impact": desk.impact, "type": desk.type,
                            "expected_version": desk.version}, HTTP_HX_REQUEST="true")
    assert len(built) == 1
    assert 'aria-invalid="true"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_reply_box_as_it_opens_is_what_the_form_wrote(team_ticket, agent, language):
    from atende.console.forms_workspace import ReplyForm
    from atende.console.panel_fields import reply_form_as_opened

    context = {"ticket": team_ticket, "user": agent, "can_note": True, "optional_partials": {}, "stale": None}
    count = 0
    with translation.override(language):
        for status, can_reply, version in product(TicketStatus.values, [True, False], [1, 17]):
            team_ticket.status, team_ticket.version = status, version
            for _round in range(2):  # written, then reused
                ours = render_to_string("console/_ticket_reply.html", {
                    **context, "reply_form": reply_form_as_opened(team_ticket, can_reply=can_reply)})
                form = ReplyForm(ticket=team_ticket, can_reply=can_reply)
                assert ours == render_to_string("console/_ticket_reply.html", {**context, "reply_form": form})
                assert reply_form_as_opened(team_ticket, can_reply=can_reply)["body"]["id_for_label"] == (
                    form["body"].id_for_label)
                count += 1
    assert count == len(TicketStatus.values) * 2 * 2 * 2

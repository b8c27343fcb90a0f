"""Full-text search through the real index (FTS5 on SQLite, tsvector on PostgreSQL: run both)."""

import pytest

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.search import reindex_tickets, search_tickets
from atende.tickets.search.events import index_for_event
from atende.tickets.search.text import parse_terms, pt_stem
from atende.tickets.services import message_add_note, message_add_reply, ticket_update
from atende.tickets.tests.factories import make_ticket


def _numbers(page):
    return [hit.ticket.number for hit in page.items]


@pytest.fixture
def indexed(db):
    """Create tickets through the services and let their events reach the index, as after a real commit."""

    def make(capture, **kwargs):
        with capture(execute=True):
            return make_ticket(**kwargs)

    return make


def test_new_tickets_are_indexed_by_their_events(indexed, django_capture_on_commit_callbacks, agent):
    ticket = indexed(django_capture_on_commit_callbacks, subject="Printer on fire", body="Smoke from tray two")
    page = search_tickets(user=agent, query="smoke")
    assert _numbers(page) == [ticket.number]
    hit = page.items[0]
    assert "<mark>Smoke</mark>" in hit.snippet_html
    assert hit.snippet_source == "body"


def test_replies_notes_and_subject_changes_reach_the_index(db, django_capture_on_commit_callbacks, agent):
    actor = Actor.for_user(agent)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(actor=actor, subject="Login trouble", body="Cannot sign in")
        message_add_reply(ticket=ticket, actor=actor, body_text="Please try the zebra procedure")
        message_add_note(ticket=ticket, actor=actor, body_text="Customer sounds like a giraffe")
        ticket_update(ticket=ticket, actor=actor, changes={"subject": "Kangaroo login trouble"})
    assert _numbers(search_tickets(user=agent, query="zebra")) == [ticket.number]
    assert _numbers(search_tickets(user=agent, query="giraffe")) == [ticket.number]
    page = search_tickets(user=agent, query="kangaroo")
    assert _numbers(page) == [ticket.number]
    assert "<mark>Kangaroo</mark>" in page.items[0].subject_html


def test_customers_never_find_internal_notes(db, django_capture_on_commit_callbacks, customer, agent):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(requester=customer, subject="Billing question", body="Where is my invoice")
        message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text="Secret wombat remark")
    assert _numbers(search_tickets(user=agent, query="wombat")) == [ticket.number]
    assert search_tickets(user=agent, query="wombat").items[0].snippet_source == "notes"
    assert _numbers(search_tickets(user=customer, query="wombat")) == []
    page = search_tickets(user=customer, query="invoice")
    assert _numbers(page) == [ticket.number]
    assert "wombat" not in page.items[0].snippet_html.lower()


def test_results_are_limited_to_what_the_user_may_see(db, django_capture_on_commit_callbacks):
    team, other_team = TeamFactory(), TeamFactory()
    restricted = AgentFactory(restrict_to_teams=True)
    team.members.add(restricted)
    owner = CustomerFactory()
    stranger = CustomerFactory()
    creator = Actor.for_user(AgentFactory())
    with django_capture_on_commit_callbacks(execute=True):
        visible = make_ticket(actor=creator, requester=owner, team=team, subject="Quokka in the server room")
        hidden = make_ticket(actor=creator, requester=owner, team=other_team, subject="Quokka in the kitchen")
    assert _numbers(search_tickets(user=restricted, query="quokka")) == [visible.number]
    assert sorted(_numbers(search_tickets(user=owner, query="quokka"))) == sorted([visible.number, hidden.number])
    assert _numbers(search_tickets(user=stranger, query="quokka")) == []


def test_subject_matches_rank_above_body_matches(db, agent):
    actor = Actor.for_user(agent)
    in_body = make_ticket(actor=actor, subject="Question", body="The export to spreadsheet fails")
    in_subject = make_ticket(actor=actor, subject="Spreadsheet export fails", body="See title")
    make_ticket(actor=actor, subject="Unrelated", body="Nothing to see")
    reindex_tickets([in_body.pk, in_subject.pk])
    assert _numbers(search_tickets(user=agent, query="spreadsheet")) == [in_subject.number, in_body.number]


def test_qualifiers_combine_with_text(db, agent, team):
    actor = Actor.for_user(agent)
    vip = make_ticket(actor=actor, subject="Refund please", tags=["vip"], team=team, assignee=agent)
    plain = make_ticket(actor=actor, subject="Refund again")
    reindex_tickets([vip.pk, plain.pk])
    assert _numbers(search_tickets(user=agent, query="refund tag:vip")) == [vip.number]
    assert _numbers(search_tickets(user=agent, query="refund assignee:me")) == [vip.number]
    assert _numbers(search_tickets(user=agent, query="refund -tag:vip")) == [plain.number]
    assert _numbers(search_tickets(user=agent, query="refund -again")) == [vip.number]
    # qualifiers alone list matching tickets, newest first, without snippets
    page = search_tickets(user=agent, query="tag:vip")
    assert _numbers(page) == [vip.number] and not page.ranked


def test_portuguese_accents_and_plurals(db, agent):
    actor = Actor.for_user(agent)
    ticket = make_ticket(actor=actor, subject="Erro ao exportar o relatório", body="A impressora não imprime a configuração")
    reindex_tickets([ticket.pk])
    for query in ("relatorio", "relatórios", "impressoras", "configuracao", "imprime"):
        assert _numbers(search_tickets(user=agent, query=query)) == [ticket.number], query


def test_phrases_prefixes_and_requester(db, agent):
    requester = CustomerFactory(name="Ana Beatriz", email="ana.beatriz@example.org")
    actor = Actor.for_user(agent)
    ticket = make_ticket(actor=actor, requester=requester, subject="Sync stopped", body="The nightly sync stopped working")
    other = make_ticket(actor=actor, subject="Working fine", body="Stopped by to say the sync is nightly")
    reindex_tickets([ticket.pk, other.pk])
    assert _numbers(search_tickets(user=agent, query='"nightly sync stopped"')) == [ticket.number]
    assert ticket.number in _numbers(search_tickets(user=agent, query="nigh*"))
    page = search_tickets(user=agent, query="beatriz")
    assert _numbers(page) == [ticket.number]


def test_snippets_escape_html(db, agent):
    ticket = make_ticket(actor=Actor.for_user(agent), subject="<script>alert(1)</script> broken",
                         body="The <b>button</b> is broken")
    reindex_tickets([ticket.pk])
    hit = search_tickets(user=agent, query="broken").items[0]
    assert "<script>" not in hit.subject_html and "&lt;script&gt;" in hit.subject_html
    assert "<b>" not in hit.snippet_html and "<mark>broken</mark>" in hit.snippet_html


def test_pages_through_ranked_results(db, agent):
    actor = Actor.for_user(agent)
    tickets = [make_ticket(actor=actor, subject=f"Walrus number {i}") for i in range(5)]
    reindex_tickets([t.pk for t in tickets])
    first = search_tickets(user=agent, query="walrus", size=2)
    second = search_tickets(user=agent, query="walrus", size=2, cursor=first.next_cursor)
    third = search_tickets(user=agent, query="walrus", size=2, cursor=second.next_cursor)
    seen = _numbers(first) + _numbers(second) + _numbers(third)
    assert sorted(seen) == sorted(t.number for t in tickets) and not third.has_next
    with pytest.raises(ValidationError):
        search_tickets(user=agent, query="other words", cursor=first.next_cursor)


def test_ranking_window_bounds_the_work(db, agent, settings):
    settings.ATENDE_SEARCH_WINDOW = 3
    actor = Actor.for_user(agent)
    tickets = [make_ticket(actor=actor, subject=f"Narwhal {i}") for i in range(5)]
    reindex_tickets([t.pk for t in tickets])
    page = search_tickets(user=agent, query="narwhal")
    assert page.window_full
    assert sorted(_numbers(page)) == sorted(t.number for t in tickets[-3:])  # the newest three matches


def test_reindex_is_idempotent_and_index_for_event_ignores_other_events(db, agent):
    ticket = make_ticket(actor=Actor.for_user(agent), subject="Ocelot")
    reindex_tickets([ticket.pk, ticket.pk])
    reindex_tickets([ticket.pk])
    assert _numbers(search_tickets(user=agent, query="ocelot")) == [ticket.number]
    ticket.subject = "Renamed directly"  # not through a service: the index keeps the old text until reindexed
    ticket.save(update_fields=["subject"])
    index_for_event(ticket.pk, "STATUS_CHANGED")
    assert _numbers(search_tickets(user=agent, query="ocelot")) == [ticket.number]
    index_for_event(ticket.pk, "FIELDS_CHANGED")
    assert _numbers(search_tickets(user=agent, query="ocelot")) == []


def test_terms_never_leak_engine_syntax(db, agent):
    ticket = make_ticket(actor=Actor.for_user(agent), subject="Weird NEAR(AND) OR subject")
    reindex_tickets([ticket.pk])
    other = make_ticket(actor=Actor.for_user(agent), subject="Printer jam")
    reindex_tickets([ticket.pk, other.pk])
    # engine operators are read as the plain words they are: only the ticket that has those words is found
    assert _numbers(search_tickets(user=agent, query="NEAR(AND")) == [ticket.number]
    assert _numbers(search_tickets(user=agent, query="subject OR")) == [ticket.number]
    for query in ('"unbalanced', "{subject}:x", "a*b^c"):  # words no ticket has: nothing, and no error
        assert _numbers(search_tickets(user=agent, query=query)) == []
    for query in ("-", "***"):  # no words at all: the plain list, newest first, as for an empty search
        assert _numbers(search_tickets(user=agent, query=query)) == [other.number, ticket.number]


def test_term_parsing_and_portuguese_stemmer():
    terms = parse_terms('Relatórios "limpar o cache" cach* -excel ana@x.com')
    assert [(t.text, t.phrase, t.prefix, t.negated) for t in terms] == [
        ("relatorios", False, False, False), ("limpar o cache", True, False, False),
        ("cach", False, True, False), ("ana@x.com", False, False, False), ("excel", False, False, True)]
    assert pt_stem("impressoras") == "impressor"
    assert pt_stem("configuracao") == "configur"
    assert pt_stem("senha") == "senha"  # too short to strip
    assert parse_terms("-only -negative") == []


def test_ranking_from_the_index_alone_drops_spam_and_matches_the_joined_ranking(db, agent, monkeypatch):
    from atende.tickets import search
    from atende.tickets.services import ticket_mark_spam

    actor = Actor.for_user(agent)
    tickets = [make_ticket(actor=actor, subject=f"Axolotl {'axolotl ' * (i % 3)}{i}") for i in range(8)]
    for ticket in tickets[:3]:
        ticket_mark_spam(ticket=ticket, actor=actor)
    reindex_tickets([t.pk for t in tickets])
    from_index = search_tickets(user=agent, query="axolotl")
    assert sorted(_numbers(from_index)) == sorted(t.number for t in tickets[3:])
    monkeypatch.setattr(search, "_ranked_from_index", lambda *args, **kwargs: None)
    joined = search_tickets(user=agent, query="axolotl")
    assert _numbers(from_index) == _numbers(joined)
    assert [hit.score for hit in from_index.items] == pytest.approx([hit.score for hit in joined.items])


def test_too_much_spam_in_the_index_candidates_falls_back_to_the_joined_ranking(db, agent, monkeypatch):
    from atende.tickets import search
    from atende.tickets.services import ticket_mark_spam

    monkeypatch.setattr(search, "INDEX_SLACK", 1)
    actor = Actor.for_user(agent)
    tickets = [make_ticket(actor=actor, subject=f"Capybara {i}") for i in range(6)]
    for ticket in tickets[-4:]:  # the newest, ranked first on equal scores
        ticket_mark_spam(ticket=ticket, actor=actor)
    reindex_tickets([t.pk for t in tickets])
    page = search_tickets(user=agent, query="capybara", size=2)
    assert sorted(_numbers(page)) == sorted(t.number for t in tickets[:2])


def test_the_index_is_written_in_the_changes_own_transaction(db, agent, django_capture_on_commit_callbacks):
    """No commit hook, no worker: the index row is there as soon as the change is, and goes with a rollback."""
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=False):
        ticket = make_ticket(actor=Actor.for_user(agent), subject="Axolotl")
    assert _numbers(search_tickets(user=agent, query="axolotl")) == [ticket.number]
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket(actor=Actor.for_user(agent), subject="Quokka")
        raise RuntimeError("rolled back")
    assert _numbers(search_tickets(user=agent, query="quokka")) == []

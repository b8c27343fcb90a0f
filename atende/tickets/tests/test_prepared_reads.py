"""``access_ticket`` builds the SQL of a shape once per connection (``core.prepared``): the same ticket, the
same related rows and annotations as the ORM reads, no query built again, and visibility unchanged."""

import pytest
from django.db.models import OuterRef

from atende.core.exceptions import NotFound
from atende.core.prepared import forget
from atende.core.testing.compiled import count_compiled
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.selectors import undeliverable_flag
from atende.tickets.models import Category, Ticket
from atende.tickets.selectors import TICKET_RELATED, access_ticket

RELATED = ("requester", "assignee", "team", "organization", "category", "category__parent")


def annotations():
    return {"requester_undeliverable": undeliverable_flag(OuterRef("requester__email"))}


def _as_orm_reads(number, related, annotate):
    qs = Ticket.objects.select_related(*related)
    if annotate:
        qs = qs.annotate(**annotate())
    return qs.get(number=number)


def _described(ticket, related):
    values = {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}
    for path in related:
        obj = ticket
        for part in path.split("__"):
            obj = getattr(obj, part) if obj is not None else None
        values[path] = None if obj is None else {f.attname: getattr(obj, f.attname)
                                                  for f in obj._meta.concrete_fields}
    values["undeliverable"] = getattr(ticket, "requester_undeliverable", "absent")
    return values


@pytest.fixture(autouse=True)
def _fresh():
    forget()
    yield
    forget()


@pytest.mark.django_db
@pytest.mark.parametrize("related,annotate", [(RELATED, annotations), (TICKET_RELATED, None), ((), None)])
def test_a_prepared_read_is_what_the_orm_reads(admin_user, team_ticket, ticket, agent, related, annotate):
    parent = Category.objects.create(name="Parent")
    team_ticket.category = Category.objects.create(name="Child", parent=parent)
    team_ticket.assignee = agent
    team_ticket.custom_fields = {"plan": "pro"}
    team_ticket.save()
    UndeliverableAddress.objects.create(address=team_ticket.requester.email.lower())
    for _round in range(2):  # built, then reused
        for t in (team_ticket, ticket):
            ours = access_ticket(user=admin_user, number=t.number, related=related, annotate=annotate)
            orm = _as_orm_reads(t.number, related, annotate)
            assert _described(ours, related) == _described(orm, related)
            assert ours._state.db == "default" and not ours._state.adding
            by_id = access_ticket(user=admin_user, ticket_id=t.pk, related=related, annotate=annotate)
            assert by_id.pk == t.pk
    assert access_ticket(user=admin_user, number=team_ticket.number, related=RELATED,
                         annotate=annotations).requester_undeliverable is True


@pytest.mark.django_db
def test_the_query_is_built_once(admin_user, team_ticket, ticket, monkeypatch):
    access_ticket(user=admin_user, number=team_ticket.number, related=RELATED, annotate=annotations)
    built = count_compiled(monkeypatch)
    for t in (ticket, team_ticket):
        assert access_ticket(user=admin_user, number=t.number, related=RELATED, annotate=annotations).pk == t.pk
    with pytest.raises(NotFound):
        access_ticket(user=admin_user, number=999_999, related=RELATED, annotate=annotations)
    assert built == []


@pytest.mark.django_db
def test_visibility_is_unchanged(team_ticket, ticket, agent, collaborator, customer, other_customer):
    """Only who sees every ticket reads through the kept SQL; the others' reads keep their filter."""
    for _round in range(2):
        assert access_ticket(user=agent, number=ticket.number, annotate=annotations).pk == ticket.pk
        assert access_ticket(user=collaborator, number=team_ticket.number).pk == team_ticket.pk
        with pytest.raises(NotFound):
            access_ticket(user=collaborator, number=ticket.number, annotate=annotations)
        assert access_ticket(user=customer, number=ticket.number).pk == ticket.pk
        with pytest.raises(NotFound):
            access_ticket(user=other_customer, number=ticket.number, annotate=annotations)
        for bad in ("x", None):
            with pytest.raises(NotFound):
                access_ticket(user=agent, number=bad)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.django_db
def test_timeline_reads_are_what_the_orm_reads(team_ticket, agent, customer, django_assert_num_queries):
    """The timeline's messages (with their attachments, as ``prefetch_related`` fills them) and events, whole and
    as the newest window, for an agent and for the customer (no internal notes, no events)."""
    from atende.core.actor import Actor
    from atende.tickets.choices import TicketEventType
    from atende.tickets.selectors import (
        event_list_for_user,
        message_list_for_user,
        timeline_events,
        timeline_messages,
    )
    from atende.tickets.services import IncomingFile, message_add_note, message_add_reply

    for n in range(5):
        files = [IncomingFile(f"shot{n}-{i}.png", PNG, "image/png") for i in range(n % 3)]
        if n % 2:
            message_add_note(ticket=team_ticket, actor=Actor.for_user(agent), body_text=f"note {n}", attachments=files)
        else:
            message_add_reply(ticket=team_ticket, actor=Actor.for_user(customer), body_text=f"reply {n}",
                              attachments=files)
    hidden = frozenset({TicketEventType.REPLY_ADDED, TicketEventType.NOTE_ADDED})
    for user in (agent, customer):
        for latest in (None, 2, 10):
            for _round in range(2):
                orm = list(message_list_for_user(user=user, ticket=team_ticket))
                orm = orm if latest is None else orm[::-1][:latest + 1]
                ours = timeline_messages(user=user, ticket=team_ticket, latest=latest)
                assert [m.pk for m in ours] == [m.pk for m in orm]
                with django_assert_num_queries(0):
                    ours_attachments = [[(a.pk, a.filename, a.message is m) for a in m.attachments.all()]
                                        for m in ours]
                    authors = [m.author.pk if m.author else None for m in ours]
                assert ours_attachments == [[(a.pk, a.filename, True) for a in m.attachments.all()] for m in orm]
                assert authors == [m.author_id for m in orm]
                events = [e for e in event_list_for_user(user=user, ticket=team_ticket) if e.type not in hidden]
                events = events if latest is None else events[::-1][:latest + 1]
                assert [(e.pk, e.actor_user_id) for e in timeline_events(
                    user=user, ticket=team_ticket, latest=latest, hidden=hidden)] == [
                        (e.pk, e.actor_user_id) for e in events]
    assert any(m.attachments.all() for m in timeline_messages(user=agent, ticket=team_ticket))

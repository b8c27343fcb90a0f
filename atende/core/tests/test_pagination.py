import pytest

from atende.core.exceptions import ValidationError
from atende.core.pagination import keyset_page, make_cursor
from atende.tickets.models import Ticket
from atende.tickets.tests.factories import make_ticket


@pytest.mark.django_db
def test_pages_cover_every_row_once_in_order(customer):
    for i in range(7):
        make_ticket(requester=customer, subject=f"T{i}")
    Ticket.objects.update(updated_at=Ticket.objects.order_by("id").first().updated_at)  # ties on the sort key
    seen, cursor = [], None
    while True:
        page = keyset_page(Ticket.objects.all(), order="-updated_at", cursor=cursor, size=3)
        seen += [t.pk for t in page.items]
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == list(Ticket.objects.order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.django_db
def test_tampered_or_foreign_cursor_is_refused(customer):
    make_ticket(requester=customer)
    with pytest.raises(ValidationError):
        keyset_page(Ticket.objects.all(), order="-updated_at", cursor="not-a-cursor")
    with pytest.raises(ValidationError):
        keyset_page(Ticket.objects.all(), order="-created_at", cursor=make_cursor("-updated_at", 1, 1))


def _walk(qs, *, order, branches=None, size=3):
    seen, cursor = [], None
    while True:
        page = keyset_page(qs, order=order, cursor=cursor, size=size, branches=branches)
        seen += [t.pk for t in page.items]
        if not page.has_next:
            return seen
        cursor = page.next_cursor


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["-updated_at", "created_at", "-id"])
def test_branches_give_the_pages_of_the_single_query(customer, order):
    from django.db.models import Q

    from atende.core.actor import Actor
    from atende.tickets.services import ticket_transition

    tickets = [make_ticket(requester=customer, subject=f"T{i}") for i in range(11)]
    for ticket in tickets[::3]:
        ticket_transition(ticket=ticket, to="pending", actor=Actor.system())
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:4]]).update(updated_at=tickets[0].updated_at)  # ties
    qs = Ticket.objects.filter(status__in=["new", "pending"])
    expected = _walk(qs, order=order)
    assert len(expected) == 11
    assert _walk(qs, order=order, branches=[Q(status="new"), Q(status="pending")]) == expected
    assert _walk(qs, order=order, branches=[Q(status="new"), Q(status="pending")], size=50) == expected


@pytest.mark.django_db
def test_a_page_is_two_queries_whatever_its_size(customer, django_assert_num_queries):
    for i in range(12):
        make_ticket(requester=customer, subject=f"T{i}")
    for size in (2, 10):
        with django_assert_num_queries(2):  # the keys, then the rows by id
            page = keyset_page(Ticket.objects.select_related("requester"), order="-created_at", size=size)
        assert len(page.items) == size and page.items[0].requester == customer

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

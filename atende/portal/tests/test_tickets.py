import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from atende.core.actor import Actor
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def solved_ticket(ticket, agent, django_capture_on_commit_callbacks):
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Restart the router, please.")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
    ticket.refresh_from_db()
    return ticket


def test_list_filters_and_search(client, customer):
    make_ticket(requester=customer, subject="Printer jam")
    solved = make_ticket(requester=customer, subject="VPN drops")
    ticket_transition(ticket=solved, to="solved", actor=Actor.system())
    client.force_login(customer)
    page = client.get(reverse("portal:tickets")).content.decode()
    assert "Printer jam" in page and "VPN drops" in page
    page = client.get(reverse("portal:tickets"), {"status": "solved"}).content.decode()
    assert "VPN drops" in page and "Printer jam" not in page
    page = client.get(reverse("portal:tickets"), {"q": "printer"}).content.decode()
    assert "Printer jam" in page and "VPN drops" not in page
    page = client.get(reverse("portal:tickets"), {"q": f"#{solved.number}"}).content.decode()
    assert "VPN drops" in page and "Printer jam" not in page


def test_list_query_count_is_bounded(client, customer, django_assert_max_num_queries):
    for i in range(15):
        make_ticket(requester=customer, subject=f"Ticket {i}")
    client.force_login(customer)
    with django_assert_max_num_queries(12):
        client.get(reverse("portal:tickets"))


def test_reply_with_attachment(client, customer, ticket):
    client.force_login(customer)
    response = client.post(reverse("portal:ticket_reply", args=[ticket.number]), {
        "body": "Here is the log.",
        "attachments": [SimpleUploadedFile("log.txt", b"error 42", content_type="text/plain")]})
    assert response.status_code == 302
    message = ticket.messages.order_by("-id").first()
    assert message.body_text == "Here is the log." and message.author == customer
    assert message.attachments.get().filename == "log.txt"
    page = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert "Here is the log." in page and reverse("tickets:attachment", args=[message.attachments.get().pk]) in page


def test_empty_reply_is_refused(client, customer, ticket):
    client.force_login(customer)
    response = client.post(reverse("portal:ticket_reply", args=[ticket.number]), {"body": "  "})
    assert "Write a message or attach a file." in response.content.decode()
    assert ticket.messages.count() == 1


def test_confirming_the_solution_closes_the_ticket(client, customer, solved_ticket):
    client.force_login(customer)
    page = client.get(reverse("portal:ticket", args=[solved_ticket.number])).content.decode()
    assert "Yes, this solved my problem" in page and "Restart the router" in page
    client.post(reverse("portal:ticket_resolution", args=[solved_ticket.number]), {"action": "confirm"})
    solved_ticket.refresh_from_db()
    assert solved_ticket.status == "closed"
    event = TicketEvent.objects.filter(ticket=solved_ticket, type="STATUS_CHANGED").last()
    assert event.data == {"old": "solved", "new": "closed", "reason": "customer_confirmed", "reopened": False}
    assert event.actor_user == customer and event.actor_kind == "customer"


def test_still_not_solved_reopens_with_or_without_comment(client, customer, solved_ticket, agent):
    client.force_login(customer)
    client.post(reverse("portal:ticket_resolution", args=[solved_ticket.number]), {"action": "reopen"})
    solved_ticket.refresh_from_db()
    assert solved_ticket.status == "open" and solved_ticket.reopen_count == 1
    ticket_transition(ticket=solved_ticket, to="solved", actor=Actor.for_user(agent))
    client.post(reverse("portal:ticket_resolution", args=[solved_ticket.number]),
                {"action": "reopen", "comment": "Still drops every hour."})
    solved_ticket.refresh_from_db()
    assert solved_ticket.status == "open" and solved_ticket.reopen_count == 2
    assert solved_ticket.messages.order_by("-id").first().body_text == "Still drops every hour."


def test_closed_ticket_offers_a_follow_up(client, customer, solved_ticket):
    ticket_transition(ticket=solved_ticket, to="closed", actor=Actor.for_user(customer))
    client.force_login(customer)
    page = client.get(reverse("portal:ticket", args=[solved_ticket.number])).content.decode()
    assert "This request is closed" in page and "Send a follow-up request" in page
    response = client.post(reverse("portal:ticket_reply", args=[solved_ticket.number]), {"body": "It broke again."})
    follow_up = Ticket.objects.get(follow_up_of=solved_ticket)
    assert response["Location"] == reverse("portal:request_submitted", args=[follow_up.number])
    assert follow_up.requester == customer and follow_up.messages.get().body_text == "It broke again."


def test_org_member_cannot_confirm_someone_elses_ticket(client, solved_ticket, customer):
    from atende.accounts.tests.factories import CustomerFactory

    customer.organization.shares_tickets = True
    customer.organization.save()
    colleague = CustomerFactory(organization=customer.organization, email_verified=True)
    client.force_login(colleague)
    page = client.get(reverse("portal:ticket", args=[solved_ticket.number])).content.decode()
    assert "Yes, this solved my problem" not in page
    response = client.post(reverse("portal:ticket_resolution", args=[solved_ticket.number]), {"action": "confirm"},
                           follow=True)
    assert "Only the person who made the request" in response.content.decode()
    solved_ticket.refresh_from_db()
    assert solved_ticket.status == "solved"

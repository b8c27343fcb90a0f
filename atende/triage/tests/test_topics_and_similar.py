import datetime

from django.utils import timezone

from atende.accounts.tests.factories import AdminFactory, AgentFactory, CustomerFactory, TeamFactory
from atende.core.actor import Actor
from atende.tickets.choices import TicketStatus
from atende.tickets.tests.factories import make_ticket
from atende.triage.selectors import similar_tickets_for_user
from atende.triage.services import triage_train
from atende.triage.tests.conftest import solve
from atende.triage.topics import recurring_topics

VPN = ["VPN does not connect from home", "vpn does not connect after update", "VPN client does not connect",
       "cannot connect to the vpn", "vpn does not connect on my laptop", "vpn connect fails again"]
INVOICE = ["Invoice total is wrong", "wrong invoice total this month", "invoice total wrong again",
           "my invoice total looks wrong"]
ONE_OFFS = ["Printer jammed", "New chair request", "Coffee machine broken", "Parking badge lost"]


def _ticket(subject, days_ago, team, requester, agent):
    return make_ticket(requester=requester, actor=Actor.for_user(agent), subject=subject,
                       body=f"{subject}. Can you help?", team=team,
                       created_at=timezone.now() - datetime.timedelta(days=days_ago, hours=1))


def test_topics_group_the_window_and_compare_with_the_previous_period(db):
    admin, agent, customer = AdminFactory(), AgentFactory(), CustomerFactory()
    network, billing = TeamFactory(name="Network"), TeamFactory(name="Billing")
    for i, subject in enumerate(VPN):
        _ticket(subject, i % 6, network if i < 5 else billing, customer, agent)
    for i, subject in enumerate(INVOICE):
        _ticket(subject, i, billing, customer, agent)
    for i, subject in enumerate(ONE_OFFS):
        _ticket(subject, i, None, customer, agent)
    for subject in ("vpn does not connect today", "the vpn will not connect"):  # the week before
        _ticket(subject, 9, network, customer, agent)
    _ticket("vpn does not connect", 20, network, customer, agent)  # outside both periods

    topics = recurring_topics(user=admin, days=7)

    vpn = next(t for t in topics if "vpn" in t.terms)
    invoice = next(t for t in topics if "invoice" in " ".join(t.terms))
    assert vpn.count == 6 and vpn.previous_count == 2 and vpn.trend == 4
    assert vpn.teams == [("Network", 5), ("Billing", 1)]
    assert invoice.count == 4 and invoice.previous_count == 0 and invoice.teams == [("Billing", 4)]
    assert all(t.count >= 3 for t in topics)
    assert len(set(vpn.ticket_ids) & set(invoice.ticket_ids)) == 0


def test_topics_only_count_tickets_the_user_may_see(db):
    agent, customer, other_customer = AgentFactory(), CustomerFactory(), CustomerFactory()
    mine = {_ticket(subject, i % 6, None, customer, agent).pk for i, subject in enumerate(VPN + INVOICE)}
    theirs = {_ticket(subject, i % 6, None, other_customer, agent).pk for i, subject in enumerate(VPN)}

    seen_by_customer = {pk for t in recurring_topics(user=customer, days=7) for pk in t.ticket_ids}
    seen_by_admin = {pk for t in recurring_topics(user=AdminFactory(), days=7) for pk in t.ticket_ids}

    assert recurring_topics(user=CustomerFactory(), days=7) == []
    assert seen_by_customer <= mine and len(seen_by_customer) >= 8
    assert seen_by_admin & theirs and seen_by_admin & mine


def test_topics_of_a_quiet_desk_are_empty(db):
    assert recurring_topics(user=AdminFactory(), days=30) == []


def test_similar_tickets_are_earlier_visible_ones_solved_first(desk):
    agent = desk["agent"]
    triage_train(actor=Actor.system())
    billing_customer = desk["customers"][0]
    reopened = next(t for t in desk["tickets"] if "charged twice" in t.subject.lower())
    from atende.tickets.services import ticket_transition

    ticket_transition(ticket=reopened, to=TicketStatus.OPEN, actor=Actor.for_user(agent))
    new = make_ticket(requester=billing_customer, subject="Charged twice on my card",
                      body="Hello, charged twice on my card since this morning.")

    similar = similar_tickets_for_user(user=agent, ticket=new)

    assert len(similar) == 5
    assert all("charged twice" in t.subject.lower() for t in similar)
    assert all(t.created_at < new.created_at for t in similar)
    statuses = [t.status in (TicketStatus.SOLVED, TicketStatus.CLOSED) for t in similar]
    assert statuses == sorted(statuses, reverse=True)  # solved ones first
    assert similar_tickets_for_user(user=CustomerFactory(), ticket=new) == []  # sees none of them


def test_no_model_no_similar_tickets(db):
    ticket = make_ticket(subject="VPN")
    assert similar_tickets_for_user(user=AdminFactory(), ticket=ticket) == []


def test_solve_helper_solves(db):
    agent = AgentFactory()
    ticket = make_ticket(subject="x", actor=Actor.for_user(agent))
    assert solve(ticket, agent).status == TicketStatus.SOLVED


def test_how_similar_tickets_were_solved_is_read_only_for_tickets_the_user_may_see(db):
    from atende.tickets.services.conversation import message_add_reply
    from atende.triage.selectors import how_solved_for_user, ticket_numbers_for_user

    agent, customer, other = AgentFactory(), CustomerFactory(), CustomerFactory()
    summarised = make_ticket(requester=customer, subject="VPN down")
    summarised.resolution_summary = "Reinstalled the VPN client."
    summarised.save(update_fields=["resolution_summary"])
    replied = make_ticket(requester=customer, subject="VPN slow")
    message_add_reply(ticket=replied, actor=Actor.for_user(agent), body_text="First try this.")
    message_add_reply(ticket=replied, actor=Actor.for_user(agent), body_text="Fixed: " + "x" * 300)
    theirs = make_ticket(requester=other, subject="VPN gone")
    theirs.resolution_summary = "Their secret fix."
    theirs.save(update_fields=["resolution_summary"])
    tickets = [summarised, replied, theirs]

    by_agent = how_solved_for_user(user=agent, tickets=tickets, max_chars=20)
    by_customer = how_solved_for_user(user=customer, tickets=tickets)

    assert by_agent == {summarised.pk: "Reinstalled the VPN …", replied.pk: "Fixed: " + "x" * 13 + "…",
                        theirs.pk: "Their secret fix."}
    assert set(by_customer) == {summarised.pk, replied.pk} and theirs.pk not in by_customer
    assert ticket_numbers_for_user(user=customer, ticket_ids=[t.pk for t in tickets]) == {
        summarised.pk: summarised.number, replied.pk: replied.number}

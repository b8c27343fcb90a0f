import datetime

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, OrganizationFactory, TeamFactory
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.filters import TicketFilters, apply_ticket_filters, parse_search_query
from atende.tickets.models import Ticket
from atende.tickets.selectors import ticket_list_for_user
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import CategoryFactory, make_ticket


def test_parse_search_query_reads_every_qualifier(db, agent):
    org = OrganizationFactory(name="Acme Corp")
    team = TeamFactory(name="Billing", slug="billing")
    text, f = parse_search_query(
        'printer "on fire" status:open,pending assignee:me tag:vip -tag:spam requester:Ana@X.com org:acme '
        'team:billing priority:high type:incident channel:email created>2026-01-01 updated<=2026-02-01 '
        'cf.plan:pro #123 unknown:thing', user=agent)
    assert text == 'printer "on fire" unknown:thing'
    assert f.status == ["open", "pending"]
    assert f.assignee == ["me"]
    assert f.tags == ["vip"] and f.exclude_tags == ["spam"]
    assert f.requester == ["ana@x.com"]
    assert f.organization == [org.pk]
    assert f.team == [team.pk]
    assert (f.priority, f.type, f.channel) == (["high"], ["incident"], ["email"])
    assert f.custom_fields == {"plan": "pro"}
    assert f.number == [123]
    assert timezone.localtime(f.created_from).date() == datetime.date(2026, 1, 2)  # ">" excludes that day
    assert timezone.localtime(f.updated_to).date() == datetime.date(2026, 2, 2)  # "<=" includes it


def test_parse_search_query_status_groups_and_negation(db, agent):
    _, f = parse_search_query("status:unsolved", user=agent)
    assert sorted(f.status) == ["new", "on_hold", "open", "pending"]
    _, f = parse_search_query("-status:closed -status:solved", user=agent)
    assert sorted(f.status) == ["new", "on_hold", "open", "pending"]
    _, f = parse_search_query("is:unassigned is:spam", user=agent)
    assert f.assignee == ["none"] and f.spam is True


def test_parse_search_query_unknown_values_fail_or_match_nothing(db, agent):
    with pytest.raises(ValidationError):
        parse_search_query("status:sleeping", user=agent)
    with pytest.raises(ValidationError):
        parse_search_query("created>yesterday", user=agent)
    _, f = parse_search_query("team:nonexistent org:nobody", user=agent)
    assert f.team == [-1] and f.organization == [-1]  # not silently ignored


def test_filters_round_trip_through_json(db):
    f = TicketFilters.from_dict({"status": "open,pending", "assignee": ["me", "7"], "tags": ["VIP", "vip"],
                                 "created_from": "2026-01-01", "created_to": "2026-01-31", "spam": None})
    again = TicketFilters.from_dict(f.to_dict())
    assert again == f
    assert f.tags == ["vip"] and f.assignee == ["me", 7] and f.spam is None
    assert timezone.localtime(f.created_to).date() == datetime.date(2026, 2, 1)  # a bare end date includes the day
    with pytest.raises(ValidationError):
        TicketFilters.from_dict({"colour": "red"})


def test_apply_ticket_filters_narrows_by_each_attribute(db, team, agent):
    actor = Actor.for_user(agent)
    org = OrganizationFactory(name="Globex")
    ana = CustomerFactory(email="ana@globex.example", organization=org)
    bob = CustomerFactory()
    parent = CategoryFactory(name="Billing")
    child = CategoryFactory(name="Invoices", parent=parent)
    t1 = make_ticket(requester=ana, actor=actor, team=team, assignee=agent, priority="high", tags=["vip", "invoice"],
                     category=child, channel="email", custom_fields={})
    t2 = make_ticket(requester=bob, actor=actor, tags=["vip"], type="incident")
    t3 = make_ticket(requester=bob, actor=actor, team=team)
    ticket_transition(ticket=t3, to="solved", actor=actor)
    base = ticket_list_for_user(user=agent)

    def ids(**data):
        return set(apply_ticket_filters(base, TicketFilters.from_dict(data), user=agent).values_list("id", flat=True))

    assert ids(assignee=["me"]) == {t1.pk}
    assert ids(assignee=["none"]) == {t2.pk, t3.pk}
    assert ids(team=["none"]) == {t2.pk}
    assert ids(team=["mine"]) == {t1.pk, t3.pk}
    assert ids(tags=["vip"]) == {t1.pk, t2.pk}
    assert ids(tags=["vip", "invoice"]) == {t1.pk}
    assert ids(exclude_tags=["invoice"]) == {t2.pk, t3.pk}
    assert ids(requester=["ANA@globex.example"]) == {t1.pk}
    assert ids(organization=["globex"]) == {t1.pk}
    assert ids(category=[parent.pk]) == {t1.pk}  # subcategories included
    assert ids(priority=["high"]) == {t1.pk}
    assert ids(type=["incident"]) == {t2.pk}
    assert ids(channel=["email"]) == {t1.pk}
    assert ids(status=["resolved"]) == {t3.pk}
    assert ids(number=[t2.number]) == {t2.pk}
    assert ids(created_from=timezone.now() + datetime.timedelta(hours=1)) == set()
    assert ids(updated_within_days=1) == {t1.pk, t2.pk, t3.pk}


def test_custom_field_filter_matches_numbers_and_text(db, agent):
    from atende.tickets.tests.factories import CustomFieldFactory

    CustomFieldFactory(key="plan", kind="text")
    CustomFieldFactory(key="seats", kind="number")
    actor = Actor.for_user(agent)
    t1 = make_ticket(actor=actor, custom_fields={"plan": "pro", "seats": 10})
    make_ticket(actor=actor, custom_fields={"plan": "free", "seats": 2})
    _, f = parse_search_query("cf.plan:pro", user=agent)
    assert list(apply_ticket_filters(Ticket.objects.all(), f, user=agent)) == [t1]
    _, f = parse_search_query("cf.seats:10", user=agent)
    assert list(apply_ticket_filters(Ticket.objects.all(), f, user=agent)) == [t1]


def test_spam_is_hidden_unless_asked_for(db, agent):
    from atende.tickets.services import ticket_mark_spam

    actor = Actor.for_user(agent)
    spam = make_ticket(actor=actor)
    ham = make_ticket(actor=actor)
    ticket_mark_spam(ticket=spam, actor=actor)
    assert list(apply_ticket_filters(Ticket.objects.all(), TicketFilters(), user=agent)) == [ham]
    _, f = parse_search_query("is:spam", user=agent)
    assert list(apply_ticket_filters(Ticket.objects.all(), f, user=agent)) == [spam]


def test_requester_me_means_the_searching_user(db):
    customer = CustomerFactory()
    mine = make_ticket(requester=customer)
    make_ticket()
    agent = AgentFactory()
    _, f = parse_search_query("requester:me", user=customer)
    assert list(apply_ticket_filters(ticket_list_for_user(user=customer), f, user=customer)) == [mine]
    _, f = parse_search_query("assignee:me", user=agent)
    assert f.assignee == ["me"]

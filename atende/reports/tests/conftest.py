"""A small, known help desk history placed in time through the ticket services."""

import datetime

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.core.actor import Actor
from atende.surveys.services import survey_answer
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.services import message_add_reply, ticket_set_sla, ticket_set_tags, ticket_transition
from atende.tickets.tests.factories import CategoryFactory, make_ticket

H = datetime.timedelta(hours=1)


def _ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Billing")


@pytest.fixture
def scenario(db, team, agent, other_team):
    """Four tickets:

    * ``solved`` (team, web, 3 days ago): first reply after 2 h, solved after 10 h; SLA first reply due 4 h (met),
      resolution due 8 h (missed); category Login, tags vpn+urgent; rated good.
    * ``answered`` (team, email, 5 days ago): first reply after 6 h, still open; SLA first reply due 4 h (missed),
      resolution due 24 h (past, missed); tag vpn; one SLA breach event now.
    * ``untouched`` (Billing team, email, 1 day ago): no reply, status new, no SLA.
    * ``old`` (team, web, 40 days ago): outside 30 days, still new (backlog only).
    """
    team.name = "Support"
    team.save(update_fields=["name"])
    customer = CustomerFactory()
    agent_actor = Actor.for_user(agent)
    customer_actor = Actor.for_user(customer)
    login = CategoryFactory(name="Login")

    start = _ago(3)
    solved = make_ticket(requester=customer, actor=agent_actor, team=team, channel="web", category=login,
                         assignee=agent, created_at=start)
    message_add_reply(ticket=solved, actor=agent_actor, body_text="Try this.", created_at=start + 2 * H)
    ticket_set_sla(ticket=solved, actor=Actor.system(), policy_id=None,
                   due={"first_reply": start + 4 * H, "resolution": start + 8 * H})
    ticket_transition(ticket=solved, to=TicketStatus.SOLVED, actor=agent_actor, now=start + 10 * H)
    ticket_set_tags(ticket=solved, actor=agent_actor, tags=["vpn", "urgent"])
    survey_answer(ticket=solved, rating="good", actor=customer_actor)

    start = _ago(5)
    answered = make_ticket(requester=customer, actor=agent_actor, team=team, channel="email",
                           assignee=agent, created_at=start)
    message_add_reply(ticket=answered, actor=agent_actor, body_text="Looking.", created_at=start + 6 * H)
    ticket_set_sla(ticket=answered, actor=Actor.system(), policy_id=None,
                   due={"first_reply": start + 4 * H, "resolution": start + 24 * H},
                   event_type=TicketEventType.SLA_BREACHED, data={"target": "resolution"})
    ticket_set_tags(ticket=answered, actor=agent_actor, tags=["vpn"])

    untouched = make_ticket(requester=customer, actor=agent_actor, team=other_team, channel="email",
                            created_at=_ago(1))
    old = make_ticket(requester=customer, actor=agent_actor, team=team, channel="web", created_at=_ago(40))
    return {"solved": solved, "answered": answered, "untouched": untouched, "old": old, "customer": customer,
            "login": login}


@pytest.fixture
def restricted_agent(db, team):
    user = AgentFactory(restrict_to_teams=True)
    team.members.add(user)
    return user


@pytest.fixture
def billing_agent(db, other_team):
    user = AgentFactory(restrict_to_teams=True)
    other_team.members.add(user)
    return user


def pytest_generate_tests(metafunc):
    if "report_source" in metafunc.fixturenames and "rollups_as_is" not in metafunc.fixturenames:
        metafunc.parametrize("report_source", ["rollups", "live"], indirect=True)


@pytest.fixture(autouse=True)
def report_source(request, monkeypatch):
    """Every dashboard test runs twice: once reading the rollups (rebuilt from the tickets right before each
    read, as if the minute job had just run) and once reading the ticket table only. Tests that drive the rollups
    themselves ask for ``rollups_as_is`` instead."""
    from atende.reports.selectors import reads
    from atende.reports.services import rollups_rebuild

    source = getattr(request, "param", None)
    if source == "live":
        monkeypatch.setattr(reads, "rollups_ready", lambda: False)
    elif source == "rollups":
        def rebuilt() -> bool:
            rollups_rebuild()
            return True

        monkeypatch.setattr(reads, "rollups_ready", rebuilt)
    return source


@pytest.fixture
def rollups_as_is(db):
    """The rollups exactly as the code under test left them (no rebuild before each read)."""

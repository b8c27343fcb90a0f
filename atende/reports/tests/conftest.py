"""A small, known help desk history placed in time through the ticket services."""

import datetime

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.core.actor import Actor
from atende.sla.services.definitions import policy_save
from atende.surveys.services import survey_answer
from atende.tickets.choices import TicketStatus
from atende.tickets.services import message_add_reply, ticket_set_tags, ticket_transition
from atende.tickets.tests.factories import CategoryFactory, make_ticket

H = datetime.timedelta(hours=1)


def _ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Billing")


@pytest.fixture
def support_sla(db, team):
    """Support's SLA in calendar time: first reply within 4 h, next reply within 2 h, resolution within 8 h."""
    return policy_save(name="Support", conditions={"all": [{"field": "team", "op": "is", "value": team.pk}]},
                       first_reply_minutes=4 * 60, next_reply_minutes=2 * 60, resolution_minutes=8 * 60,
                       business_hours=False, warn_before_minutes=15)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """``deliver(service, **kwargs)``: run one service and deliver its events right after, as its commit would
    (SLA clocks, rollup marks, automation...)."""
    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


@pytest.fixture
def scenario(db, team, agent, other_team, support_sla, deliver):
    """Four tickets, their events delivered (so the SLA clocks run as they would):

    * ``solved`` (team, web, 3 days ago): first reply after 2 h, solved after 10 h; SLA first reply within 4 h
      (met), resolution within 8 h (missed: a breach event); category Login, tags vpn+urgent; rated good.
    * ``answered`` (team, email, 5 days ago): first reply after 6 h (missed: a breach event), still open; the
      resolution target (8 h) has passed without a breach event yet (the minute job has not run); tag vpn.
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
    solved = deliver(make_ticket, requester=customer, actor=agent_actor, team=team, channel="web", category=login,
                       assignee=agent, created_at=start)
    deliver(message_add_reply, ticket=solved, actor=agent_actor, body_text="Try this.", created_at=start + 2 * H)
    deliver(ticket_transition, ticket=solved, to=TicketStatus.SOLVED, actor=agent_actor, now=start + 10 * H)
    deliver(ticket_set_tags, ticket=solved, actor=agent_actor, tags=["vpn", "urgent"])

    start = _ago(5)
    answered = deliver(make_ticket, requester=customer, actor=agent_actor, team=team, channel="email",
                         assignee=agent, created_at=start)
    deliver(message_add_reply, ticket=answered, actor=agent_actor, body_text="Looking.", created_at=start + 6 * H)
    deliver(ticket_set_tags, ticket=answered, actor=agent_actor, tags=["vpn"])

    untouched = deliver(make_ticket, requester=customer, actor=agent_actor, team=other_team, channel="email",
                          created_at=_ago(1))
    old = deliver(make_ticket, requester=customer, actor=agent_actor, team=team, channel="web", created_at=_ago(40))
    survey_answer(ticket=solved, rating="good", actor=customer_actor)
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

"""The side panel's teams, agents, categories and custom fields are kept per process and read again, in every
process, once a change to any of them commits (``console/options.py``, ``core/generations.py``)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from atende.accounts.choices import Role
from atende.accounts.models import Team, User
from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.console import options
from atende.core import generations
from atende.core.testing.generations import another_process_commits as other_process_commits
from atende.core.testing.generations import commit_generation_changes
from atende.tickets.tests.factories import CategoryFactory, CustomFieldFactory


class RolledBack(Exception):
    pass


def page(client, ticket) -> str:
    return client.get(reverse("console:ticket", args=[ticket.number])).content.decode()


def commit_option_changes() -> None:
    commit_generation_changes()


def another_process_commits() -> None:
    other_process_commits(options.NAME)


def test_ticket_page_reads_the_options_once_per_process(client, agent, team_ticket, django_assert_max_num_queries):
    """Once warm, the ticket page reads no team, agent, category or custom-field rows (13 statements before:
    session, user, ticket, timeline, tags, the four option lists, macros, reply route...)."""
    client.force_login(agent)
    commit_option_changes()
    page(client, team_ticket)
    with django_assert_max_num_queries(8) as captured:
        page(client, team_ticket)
    read = " ".join(q["sql"] for q in captured.captured_queries)
    for table in ("accounts_team", "tickets_category", "tickets_customfield"):
        assert f'FROM "{table}"' not in read
    assert "\"accounts_user\".\"role\" IN ('admin', 'agent')" not in read  # the agent list


def test_a_change_committed_in_another_process_shows_on_the_next_page(client, agent, team_ticket):
    client.force_login(agent)
    commit_option_changes()
    assert f">{agent.name}</option>" in page(client, team_ticket)
    # The row changes without a signal in this process (another process saved it)...
    User.objects.filter(pk=agent.pk).update(name="Renamed Elsewhere")
    Team.objects.filter(pk=team_ticket.team_id).update(name="Team Elsewhere")
    assert ">Renamed Elsewhere</option>" not in page(client, team_ticket)  # ...this process's copy is current
    another_process_commits()
    html = page(client, team_ticket)
    assert ">Renamed Elsewhere</option>" in html and ">Team Elsewhere</option>" in html


@pytest.mark.parametrize("change", ["agent added", "agent renamed", "agent made customer", "agent deactivated",
                                    "customer made agent", "team renamed", "team deleted", "category added",
                                    "category renamed", "custom field added", "custom field deactivated"])
def test_each_committed_change_outdates_every_copy(client, agent, team_ticket, customer, change,
                                                   django_capture_on_commit_callbacks):
    other_team, category = TeamFactory(name="Old team"), CategoryFactory(name="Old category")
    field = CustomFieldFactory(key="old_field", label="Old field")
    client.force_login(agent)
    commit_option_changes()
    page(client, team_ticket)
    before = generations.token(options.NAME)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "agent added":
            AgentFactory(name="Newcomer Agent")
            shown, gone = "Newcomer Agent", None
        elif change == "agent renamed":
            agent.name = "Agent Renamed"
            agent.save()
            shown, gone = "Agent Renamed", None
        elif change == "agent made customer":
            other = AgentFactory(name="Leaving Agent")
            other.role = Role.CUSTOMER
            other.save(update_fields=["role"])
            shown, gone = None, "Leaving Agent"
        elif change == "agent deactivated":
            other = AgentFactory(name="Resting Agent")
            other.is_active = False
            other.save(update_fields=["is_active"])
            shown, gone = None, "Resting Agent"
        elif change == "customer made agent":
            customer.role = Role.AGENT
            customer.save(update_fields=["role"])
            shown, gone = customer.name, None
        elif change == "team renamed":
            other_team.name = "New team"
            other_team.save()
            shown, gone = "New team", "Old team"
        elif change == "team deleted":
            other_team.delete()
            shown, gone = None, "Old team"
        elif change == "category added":
            CategoryFactory(name="Fresh category")
            shown, gone = "Fresh category", None
        elif change == "category renamed":
            category.name = "New category"
            category.save()
            shown, gone = "New category", "Old category"
        elif change == "custom field added":
            CustomFieldFactory(key="fresh_field", label="Fresh field")
            shown, gone = "Fresh field", None
        else:
            field.is_active = False
            field.save()
            shown, gone = None, "Old field"
    assert generations.token(options.NAME) != before  # what every other process reads
    html = page(client, team_ticket)
    assert shown is None or shown in html
    assert gone is None or gone not in html


def test_saves_that_change_no_list_keep_the_copy(agent, customer, django_capture_on_commit_callbacks):
    commit_option_changes()
    before = generations.token(options.NAME)
    with django_capture_on_commit_callbacks(execute=True):
        agent.save(update_fields=["last_login"])  # every sign-in
        customer.notes = "Prefers phone calls"
        customer.save(update_fields=["notes"])
        User.objects.create(email="new-customer@example.com", role=Role.CUSTOMER)
    assert generations.token(options.NAME) == before


def test_an_open_transaction_reads_its_own_change_and_a_rollback_leaves_no_copy(client, agent, team_ticket):
    client.force_login(agent)
    commit_option_changes()
    page(client, team_ticket)
    with pytest.raises(RolledBack), transaction.atomic():
        agent.name = "Never Committed"
        agent.save()
        assert "Never Committed" in page(client, team_ticket)
        raise RolledBack
    assert "Never Committed" not in page(client, team_ticket)

"""The side panel's teams, agents, categories and custom fields are kept per process (``console/options.py``,
``core/generations.py``) and read again, in every process, once a service or the admin that writes them commits."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from atende.accounts.choices import Role
from atende.accounts.models import Team, User
from atende.accounts.selectors import AGENTS_AND_TEAMS
from atende.accounts.services import team_create, user_create, user_update_profile
from atende.accounts.tests.factories import TeamFactory
from atende.console.tests.admin_writes import admin_delete, admin_save
from atende.core import generations
from atende.core.testing.generations import another_process_commits, commit_generation_changes
from atende.tickets.models import Category, CustomField
from atende.tickets.selectors import CATEGORIES_AND_FIELDS
from atende.tickets.tests.factories import CategoryFactory, CustomFieldFactory


class RolledBack(Exception):
    pass


def page(client, ticket) -> str:
    return client.get(reverse("console:ticket", args=[ticket.number])).content.decode()


def test_ticket_page_reads_the_options_once_per_process(client, agent, team_ticket, django_assert_num_queries):
    """Once warm, the ticket page reads no team, agent, category, custom-field or macro rows: 8 statements (session,
    user, ticket, the timeline's messages, attachments and events, tags, the reply route), 13 before."""
    client.force_login(agent)
    commit_generation_changes()
    page(client, team_ticket)
    with django_assert_num_queries(8) as captured:
        page(client, team_ticket)
    read = " ".join(q["sql"] for q in captured.captured_queries)
    for table in ("accounts_team", "tickets_category", "tickets_customfield", "automation_macro"):
        assert f'FROM "{table}"' not in read
    assert "\"accounts_user\".\"role\" IN ('admin', 'agent')" not in read  # the agent list


def test_a_change_committed_in_another_process_shows_on_the_next_page(client, agent, team_ticket):
    client.force_login(agent)
    commit_generation_changes()
    assert f">{agent.name}</option>" in page(client, team_ticket)
    # Written by another process: this process's copy stands until that process's commit replaces the token.
    User.objects.filter(pk=agent.pk).update(name="Renamed Elsewhere")
    Team.objects.filter(pk=team_ticket.team_id).update(name="Team Elsewhere")
    assert ">Renamed Elsewhere</option>" not in page(client, team_ticket)
    another_process_commits(AGENTS_AND_TEAMS)
    html = page(client, team_ticket)
    assert ">Renamed Elsewhere</option>" in html and ">Team Elsewhere</option>" in html


CHANGES = ["agent added", "agent renamed", "agent made customer in the admin", "agent deactivated in the admin",
           "customer made agent in the admin", "agent deleted in the admin", "team added", "team renamed in the admin",
           "team deleted in the admin", "category added in the admin", "category renamed in the admin",
           "category deactivated in the admin", "custom field added in the admin",
           "custom field deactivated in the admin"]


@pytest.mark.parametrize("change", CHANGES)
def test_each_write_path_outdates_every_copy(client, agent, admin_user, team_ticket, customer, change,
                                             django_capture_on_commit_callbacks):
    other_team, category = TeamFactory(name="Old team"), CategoryFactory(name="Old category")
    field = CustomFieldFactory(key="old_field", label="Old field")
    leaving = user_create(email="leaving@example.com", name="Leaving Agent", role=Role.AGENT)
    client.force_login(agent)
    commit_generation_changes()
    assert "Leaving Agent" in page(client, team_ticket) and "Old category" in page(client, team_ticket)
    before = generations.tokens((AGENTS_AND_TEAMS, CATEGORIES_AND_FIELDS))
    shown = gone = None
    with django_capture_on_commit_callbacks(execute=True):
        if change == "agent added":
            user_create(email="newcomer@example.com", name="Newcomer Agent", role=Role.AGENT)
            shown = "Newcomer Agent"
        elif change == "agent renamed":
            user_update_profile(user=leaving, name="Agent Renamed")
            shown, gone = "Agent Renamed", "Leaving Agent"
        elif change in ("agent made customer in the admin", "agent deactivated in the admin"):
            if change.startswith("agent made"):
                leaving.role = Role.CUSTOMER
            else:
                leaving.is_active = False
            admin_save(admin_user, leaving)
            gone = "Leaving Agent"
        elif change == "customer made agent in the admin":
            customer.role = Role.AGENT
            admin_save(admin_user, customer)
            shown = customer.name
        elif change == "agent deleted in the admin":
            admin_delete(admin_user, leaving)
            gone = "Leaving Agent"
        elif change == "team added":
            team_create(name="Fresh team", slug="fresh-team")
            shown = "Fresh team"
        elif change == "team renamed in the admin":
            other_team.name = "New team"
            admin_save(admin_user, other_team)
            shown, gone = "New team", "Old team"
        elif change == "team deleted in the admin":
            admin_delete(admin_user, other_team)
            gone = "Old team"
        elif change == "category added in the admin":
            admin_save(admin_user, Category(name="Fresh category", parent=category))
            shown = "Old category › Fresh category"
        elif change == "category renamed in the admin":
            category.name = "New category"
            admin_save(admin_user, category)
            shown, gone = "New category", "Old category"
        elif change == "category deactivated in the admin":
            category.is_active = False
            admin_save(admin_user, category)
            gone = "Old category"
        elif change == "custom field added in the admin":
            admin_save(admin_user, CustomField(key="fresh_field", label="Fresh field", kind="text"))
            shown = "Fresh field"
        else:
            field.is_active = False
            admin_save(admin_user, field)
            gone = "Old field"
    assert generations.tokens((AGENTS_AND_TEAMS, CATEGORIES_AND_FIELDS)) != before  # what other processes read
    html = page(client, team_ticket)
    assert shown is None or shown in html
    assert gone is None or gone not in html


def test_writes_that_change_no_list_keep_the_copy(agent, customer, django_capture_on_commit_callbacks):
    commit_generation_changes()
    before = generations.tokens((AGENTS_AND_TEAMS, CATEGORIES_AND_FIELDS))
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=customer, notes="Prefers phone calls")
        user_create(email="new-customer@example.com", role=Role.CUSTOMER)
    assert generations.tokens((AGENTS_AND_TEAMS, CATEGORIES_AND_FIELDS)) == before


def test_an_open_transaction_reads_its_own_change_and_a_rollback_leaves_no_copy(client, agent, team_ticket):
    client.force_login(agent)
    commit_generation_changes()
    page(client, team_ticket)
    with pytest.raises(RolledBack), transaction.atomic():
        user_update_profile(user=agent, name="Never Committed")
        assert "Never Committed" in page(client, team_ticket)
        raise RolledBack
    agent.refresh_from_db()
    assert "Never Committed" not in page(client, team_ticket)

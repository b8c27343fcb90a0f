"""The SLA's policies and calendars are kept per process (``core.generations``) and read afresh once a service
changes them: a batch of events after an admin's change sees it, as it did when each batch read them."""

import pytest
from django.db import transaction

from atende.core.memo import batch_scope
from atende.rules.services import rule_move
from atende.sla.selectors import active_policies, calendar_for_team, policy_by_id
from atende.sla.services.definitions import calendar_delete, calendar_save, policy_delete, policy_save

pytestmark = pytest.mark.django_db(transaction=True)  # the copies are outdated when the change commits


def names() -> list[str]:
    with batch_scope():
        return [p.name for p in active_policies()]


def test_policy_changes_are_seen_by_the_next_read(admin_user):
    first = policy_save(user=admin_user, name="First", first_reply_minutes=60)
    assert names() == ["First"]
    second = policy_save(user=admin_user, name="Second", first_reply_minutes=30)
    assert names() == ["First", "Second"]
    with transaction.atomic():
        rule_move(rule=second, direction="up", user=admin_user)
    assert names() == ["Second", "First"]
    policy_save(user=admin_user, policy=first, name="First", first_reply_minutes=45, is_active=False)
    assert names() == ["Second"]
    assert policy_by_id(first.pk).first_reply_minutes == 45 and not policy_by_id(first.pk).is_active
    policy_delete(user=admin_user, policy=second)
    assert names() == [] and policy_by_id(second.pk) is None


def test_calendar_changes_are_seen_by_the_next_read(admin_user, team):
    assert calendar_for_team(team.pk).always_open  # no calendar: 24/7
    calendar = calendar_save(user=admin_user, name="Office", time_zone="UTC", hours=[(0, 540, 1080)], teams=[team])
    assert calendar_for_team(team.pk).hours[0] == ((540, 1080),)
    calendar_save(user=admin_user, calendar=calendar, name="Office", time_zone="UTC", hours=[(0, 600, 1020)],
                  teams=[team])
    assert calendar_for_team(team.pk).hours[0] == ((600, 1020),)
    calendar_save(user=admin_user, calendar=calendar, name="Office", time_zone="UTC", hours=[(0, 600, 1020)])
    assert calendar_for_team(team.pk).always_open  # the team no longer has it, and it is not the default
    calendar_save(user=admin_user, calendar=calendar, name="Office", time_zone="UTC", hours=[(0, 600, 1020)],
                  is_default=True)
    assert calendar_for_team(team.pk).hours[0] == ((600, 1020),)  # the default
    calendar_delete(user=admin_user, calendar=calendar)
    assert calendar_for_team(team.pk).always_open

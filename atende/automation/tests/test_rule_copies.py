"""The active routing rules and triggers are kept per process (``core.generations``) and read afresh once a
service changes them: the batch of events after an admin's change runs the rules as changed."""

import pytest
from django.db import transaction

from atende.automation.services.definitions import rule_delete, rule_save
from atende.automation.services.engine import _routing_rules, _triggers
from atende.core.memo import batch_scope
from atende.rules.services import rule_move

pytestmark = pytest.mark.django_db(transaction=True)  # the copies are outdated when the change commits

PRIORITY = [{"type": "set_priority", "value": "high"}]


def names(read) -> list[str]:
    with batch_scope():
        return [rule.name for rule in read()]


@pytest.mark.parametrize(("kind", "read", "extra"), [("trigger", _triggers, {"events": ["created"]}),
                                                     ("routing", _routing_rules, {})])
def test_rule_changes_are_seen_by_the_next_batch(admin_user, kind, read, extra):
    first = rule_save(kind=kind, user=admin_user, name="First", conditions={}, actions=PRIORITY, **extra)
    assert names(read) == ["First"]
    second = rule_save(kind=kind, user=admin_user, name="Second", conditions={}, actions=PRIORITY, **extra)
    assert names(read) == ["First", "Second"]
    with transaction.atomic():
        rule_move(rule=second, direction="up", user=admin_user)
    assert names(read) == ["Second", "First"]
    rule_save(kind=kind, user=admin_user, rule=first, name="First", conditions={}, actions=PRIORITY,
              is_active=False, **extra)
    assert names(read) == ["Second"]
    rule_delete(rule=second, user=admin_user)
    assert names(read) == []

"""The save-time backfill: arms a time rule for the existing tickets, in batches, with the reschedule's rules."""

import datetime as dt

import pytest

from atende.accounts.tests.factories import TeamFactory
from atende.automation.models import TimeRuleSchedule
from atende.automation.services.definitions import rule_save
from atende.automation.services.time_rules import time_rule_backfill, time_rules_run
from atende.core.actor import Actor
from atende.sla.business_time import parse_hhmm
from atende.sla.services.definitions import calendar_save
from atende.tickets.models import Message
from atende.tickets.services import message_add_reply, ticket_transition
from atende.tickets.tests.factories import CustomFieldFactory, make_ticket

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)  # Tuesday
H = dt.timedelta(hours=1)
PENDING = {"all": [{"field": "status", "op": "is", "value": "pending"}]}
REMIND = [{"type": "reply", "body": "Any news?"}]


def save_rule(rule=None, *, name="Remind pending", anchor="status_changed_at", hours=72, conditions=PENDING,
              actions=REMIND, **extra):
    # Outside ``run_events``: the on-commit backfill task does not run, each test calls the service itself.
    return rule_save(kind="time_rule", rule=rule, name=name, anchor=anchor, hours=hours, conditions=conditions,
                     actions=actions, **extra)


def make_pending(create_ticket, agent, run_events, at=T0, **kwargs):
    ticket = create_ticket(created_at=at, **kwargs)
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Need logs", set_status="pending",
                          created_at=at + H)
    ticket.refresh_from_db()
    return ticket


def schedule(rule):
    return {row.ticket_id: (row.anchor_at, row.due_at, row.fired_at)
            for row in TimeRuleSchedule.objects.filter(rule=rule)}


def test_arms_exactly_the_matching_tickets_with_their_due_times(create_ticket, agent, run_events):
    first = make_pending(create_ticket, agent, run_events)
    second = make_pending(create_ticket, agent, run_events, at=T0 + 5 * H)
    open_ticket = create_ticket(created_at=T0)
    with run_events():
        message_add_reply(ticket=open_ticket, actor=Actor.for_user(agent), body_text="On it", created_at=T0 + H)
    rule = save_rule()

    assert time_rule_backfill(rule_id=rule.pk) == 3  # every ticket not closed that has the anchor was examined
    assert schedule(rule) == {first.pk: (T0 + H, T0 + 73 * H, None),
                              second.pk: (T0 + 6 * H, T0 + 78 * H, None)}
    assert set(TimeRuleSchedule.objects.values_list("last_error", flat=True)) == {""}


def test_business_hours_use_each_tickets_team_calendar(create_ticket, team):
    calendar_save(name="Nine to five", time_zone="UTC", teams=[team],
                  hours=[(d, parse_hhmm("09:00"), parse_hhmm("17:00")) for d in range(5)])
    friday = dt.datetime(2024, 3, 8, 13, 0, tzinfo=dt.UTC)
    office = create_ticket(team=team, created_at=friday)
    office_later = create_ticket(team=team, created_at=friday + H)
    around_the_clock = create_ticket(team=TeamFactory(), created_at=friday)
    rule = save_rule(name="Escalate", anchor="created_at", hours=8, business_hours=True, conditions={},
                     actions=[{"type": "set_priority", "value": "urgent"}])

    time_rule_backfill(rule_id=rule.pk)
    assert schedule(rule) == {
        office.pk: (friday, dt.datetime(2024, 3, 11, 13, 0, tzinfo=dt.UTC), None),  # 4h Friday + 4h Monday
        office_later.pk: (friday + H, dt.datetime(2024, 3, 11, 14, 0, tzinfo=dt.UTC), None),
        around_the_clock.pk: (friday, friday + 8 * H, None),  # no calendar for that team: 24/7
    }


def test_skips_closed_tickets_and_tickets_without_the_anchor(create_ticket, agent, run_events):
    solved, closed, unsolved = (create_ticket(created_at=T0) for _ in range(3))
    with run_events():
        for ticket in (solved, closed):
            ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent), now=T0 + H)
        ticket_transition(ticket=closed, to="closed", actor=Actor.for_user(agent), now=T0 + 2 * H)
    rule = save_rule(name="Follow up", anchor="solved_at", hours=24, conditions={})

    assert time_rule_backfill(rule_id=rule.pk) == 1
    assert schedule(rule) == {solved.pk: (T0 + H, T0 + 25 * H, None)}


def test_a_row_fired_for_this_occurrence_is_not_armed_again(create_ticket, agent, run_events):
    ticket = make_pending(create_ticket, agent, run_events)
    rule = save_rule()
    time_rule_backfill(rule_id=rule.pk)
    with run_events():
        assert time_rules_run(now=T0 + 80 * H) == 1
    fired = schedule(rule)
    assert fired[ticket.pk][2] == T0 + 80 * H

    time_rule_backfill(rule_id=rule.pk)  # the admin saves the rule again
    assert schedule(rule) == fired
    with run_events():
        assert time_rules_run(now=T0 + 200 * H) == 0
    assert Message.objects.filter(ticket=ticket, body_text="Any news?").count() == 1


def test_a_fired_row_is_armed_again_for_a_new_occurrence(create_ticket, agent, customer, run_events):
    ticket = make_pending(create_ticket, agent, run_events)
    rule = save_rule()
    time_rule_backfill(rule_id=rule.pk)
    with run_events():
        time_rules_run(now=T0 + 80 * H)
    # Pending again later; the events are not delivered, so only the backfill sees the new occurrence.
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Here", created_at=T0 + 90 * H)
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="More", set_status="pending",
                      created_at=T0 + 91 * H)
    row_id = TimeRuleSchedule.objects.get(rule=rule).pk

    time_rule_backfill(rule_id=rule.pk)
    assert schedule(rule) == {ticket.pk: (T0 + 91 * H, T0 + 163 * H, None)}
    assert TimeRuleSchedule.objects.get(rule=rule).pk == row_id  # updated in place
    with run_events():
        assert time_rules_run(now=T0 + 164 * H) == 1
    assert Message.objects.filter(ticket=ticket, body_text="Any news?").count() == 2


def test_unfired_rows_are_replaced_by_the_new_definition(create_ticket, agent, run_events):
    portuguese = make_pending(create_ticket, agent, run_events, language="pt-br")
    english = make_pending(create_ticket, agent, run_events, language="en")
    rule = save_rule()
    time_rule_backfill(rule_id=rule.pk)
    assert set(schedule(rule)) == {portuguese.pk, english.pk}

    save_rule(rule, hours=24, conditions={"all": [*PENDING["all"], {"field": "language", "op": "is", "value": "pt-br"}]})
    time_rule_backfill(rule_id=rule.pk)
    assert schedule(rule) == {portuguese.pk: (T0 + H, T0 + 25 * H, None)}

    save_rule(rule, is_active=False)
    assert time_rule_backfill(rule_id=rule.pk) == 0
    assert schedule(rule) == {}


def test_runs_in_batches_by_primary_key(create_ticket, agent, run_events):
    tickets = [make_pending(create_ticket, agent, run_events, at=T0 + i * H) for i in range(5)]
    rule = save_rule()
    assert time_rule_backfill(rule_id=rule.pk, batch=2) == 5
    assert schedule(rule) == {t.pk: (T0 + (i + 1) * H, T0 + (i + 73) * H, None) for i, t in enumerate(tickets)}
    with run_events():  # the first three are due and fire
        assert time_rules_run(now=T0 + 75 * H) == 3
    before = schedule(rule)

    assert time_rule_backfill(rule_id=rule.pk, batch=2) == 5  # fired and armed rows in every batch
    assert schedule(rule) == before
    assert [before[t.pk][2] for t in tickets] == [T0 + 75 * H] * 3 + [None] * 2


@pytest.mark.parametrize("tickets", [3, 30])
def test_queries_do_not_grow_with_the_tickets_in_a_batch(tickets, customer, team, django_assert_max_num_queries):
    calendar_save(name="Nine to five", time_zone="UTC", teams=[team],
                  hours=[(d, parse_hhmm("09:00"), parse_hhmm("17:00")) for d in range(5)])
    CustomFieldFactory(key="plan", kind="text")
    for _ in range(tickets):
        make_ticket(requester=customer, actor=Actor.system(), team=team, tags=["vip"],
                    custom_fields={"plan": "gold"}, created_at=T0)
    make_ticket(requester=customer, actor=Actor.system(), team=team, created_at=T0)  # no tag: not armed
    # Every kind of value a condition reads: columns, refs, the requester, tags, message texts, custom fields.
    rule = save_rule(name="Escalate VIPs", anchor="created_at", hours=8, business_hours=True, conditions={"all": [
        {"field": "status_category", "op": "is", "value": "open"},
        {"field": "team", "op": "is", "value": team.pk},
        {"field": "reopen_count", "op": "lte", "value": 0},
        {"field": "sender_domain", "op": "is", "value": customer.email.rsplit("@", 1)[1]},
        {"field": "tags", "op": "includes_any", "value": ["vip"]},
        {"field": "body", "op": "contains", "value": "fire"},
        {"field": "message", "op": "contains", "value": "fire"},
        {"field": "custom_fields.plan", "op": "is", "value": "gold"},
    ]})

    # The rule, the armed rows, tickets (+ tags), their rows, a custom field, a calendar, the upsert: the same
    # bound for 3 tickets as for 30.
    with django_assert_max_num_queries(16):
        assert time_rule_backfill(rule_id=rule.pk, batch=50) == tickets + 1
    rows = TimeRuleSchedule.objects.filter(rule=rule)
    assert rows.count() == tickets
    # Tuesday 10:00 + 8 business hours: 7 on Tuesday, 1 on Wednesday.
    assert set(rows.values_list("due_at", flat=True)) == {dt.datetime(2024, 3, 6, 10, 0, tzinfo=dt.UTC)}

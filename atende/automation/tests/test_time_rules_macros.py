"""Time rules with a controllable clock (indexed due rows, once per occurrence), macros and canned replies."""

import datetime as dt

import pytest
from django.utils import translation

from atende.automation.models import TimeRuleSchedule
from atende.automation.selectors import canned_reply_list_for_user, macro_list_for_user
from atende.automation.services.definitions import canned_reply_save, macro_save, rule_save
from atende.automation.services.macros import macro_apply
from atende.automation.services.time_rules import time_rules_run
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.rules.placeholders import render
from atende.sla.business_time import parse_hhmm
from atende.sla.services.definitions import calendar_save
from atende.tickets.models import Message
from atende.tickets.services import message_add_reply, ticket_transition

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)  # Tuesday
H = dt.timedelta(hours=1)


@pytest.fixture
def pending_reminder(db, run_events):
    with run_events():
        return rule_save(kind="time_rule", name="Remind pending", anchor="status_changed_at", hours=72,
                         conditions={"all": [{"field": "status", "op": "is", "value": "pending"}]},
                         actions=[{"type": "reply", "body": "Any news, {{requester.first_name}}?"},
                                  {"type": "add_tags", "value": ["reminded"]}])


def make_pending(create_ticket, agent, run_events, at=T0):
    ticket = create_ticket(created_at=at)
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Need logs", set_status="pending",
                          created_at=at + H)
    ticket.refresh_from_db()
    return ticket


def test_pending_for_three_days_reminds_once(pending_reminder, create_ticket, agent, run_events):
    ticket = make_pending(create_ticket, agent, run_events)
    row = TimeRuleSchedule.objects.get(rule=pending_reminder, ticket=ticket)
    assert row.due_at == T0 + H + 72 * H and row.fired_at is None
    with run_events():
        assert time_rules_run(now=T0 + 72 * H) == 0  # not yet
        assert time_rules_run(now=T0 + 74 * H) == 1
        assert time_rules_run(now=T0 + 200 * H) == 0  # once per occurrence
    reminders = Message.objects.filter(ticket=ticket, body_text__startswith="Any news")
    assert reminders.count() == 1
    assert "reminded" in set(ticket.tags.values_list("name", flat=True))
    ticket.refresh_from_db()
    assert ticket.status == "pending"


def test_rule_is_disarmed_when_the_ticket_stops_matching(pending_reminder, create_ticket, agent, customer,
                                                         run_events):
    ticket = make_pending(create_ticket, agent, run_events)
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Here", created_at=T0 + 2 * H)
    assert not TimeRuleSchedule.objects.filter(ticket=ticket).exists()
    assert time_rules_run(now=T0 + 100 * H) == 0


def test_a_new_pending_period_arms_the_rule_again(pending_reminder, create_ticket, agent, customer, run_events):
    ticket = make_pending(create_ticket, agent, run_events)
    with run_events():
        time_rules_run(now=T0 + 80 * H)
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Here", created_at=T0 + 90 * H)
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="More", set_status="pending",
                          created_at=T0 + 91 * H)
    row = TimeRuleSchedule.objects.get(ticket=ticket)
    assert row.fired_at is None and row.due_at == T0 + 91 * H + 72 * H


def test_only_due_rows_are_read(pending_reminder, create_ticket, agent, run_events, django_assert_max_num_queries):
    for _ in range(3):
        make_pending(create_ticket, agent, run_events)
    with django_assert_max_num_queries(2):
        assert time_rules_run(now=T0 + 10 * H) == 0


def test_solved_then_close_rule_and_rule_saved_after_the_fact(create_ticket, agent, run_events):
    ticket = create_ticket(created_at=T0)
    with run_events():
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent), now=T0 + H)
    with run_events():  # saved later: armed for existing tickets by the backfill task
        rule_save(kind="time_rule", name="Close after 2 days", anchor="solved_at", hours=48,
                  conditions={"all": [{"field": "status", "op": "is", "value": "solved"}]},
                  actions=[{"type": "set_status", "value": "closed"}])
    assert TimeRuleSchedule.objects.get(ticket=ticket).due_at == T0 + 49 * H
    with run_events():
        time_rules_run(now=T0 + 50 * H)
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_business_hours_time_rule_uses_the_team_calendar(create_ticket, team, run_events):
    calendar_save(name="Nine to five", time_zone="UTC", teams=[team],
                  hours=[(d, parse_hhmm("09:00"), parse_hhmm("17:00")) for d in range(5)])
    with run_events():
        rule = rule_save(kind="time_rule", name="Escalate", anchor="created_at", hours=8, business_hours=True,
                         conditions={}, actions=[{"type": "set_priority", "value": "urgent"}])
    friday = dt.datetime(2024, 3, 8, 13, 0, tzinfo=dt.UTC)
    ticket = create_ticket(team=team, created_at=friday)
    row = TimeRuleSchedule.objects.get(rule=rule, ticket=ticket)
    assert row.due_at == dt.datetime(2024, 3, 11, 13, 0, tzinfo=dt.UTC)  # 4h Friday + 4h Monday


def test_time_rule_definition_is_validated(db):
    with pytest.raises(ValidationError, match="Hours must be more than 0"):
        rule_save(kind="time_rule", name="x", anchor="created_at", hours=0, actions=[{"type": "raise_priority"}])
    with pytest.raises(ValidationError, match="Unknown time reference"):
        rule_save(kind="time_rule", name="x", anchor="born_at", hours=1, actions=[{"type": "raise_priority"}])


def test_macro_applies_actions_and_reply_as_the_agent(create_ticket, admin_user, agent, run_events):
    macro = macro_save(user=admin_user, name="Ask for logs", actions=[
        {"type": "add_tags", "value": ["needs-logs"]}, {"type": "set_status", "value": "pending"}],
        reply_text="Hi {{requester.first_name}}, please send logs. — {{agent.name}}")
    ticket = create_ticket()
    with run_events():
        macro_apply(macro=macro, ticket=ticket, actor=Actor.for_user(agent))
    ticket.refresh_from_db()
    reply = Message.objects.filter(ticket=ticket, kind="reply").latest("id")
    assert reply.author == agent
    assert reply.body_text == f"Hi {ticket.requester.first_name}, please send logs. — {agent.display_name}"
    assert ticket.status == "pending" and ticket.first_response_at is not None
    assert "needs-logs" in set(ticket.tags.values_list("name", flat=True))


def test_personal_macros_are_private(admin_user, agent, other_agent, create_ticket):
    mine = macro_save(user=agent, name="Mine", reply_text="hello", shared=False)
    shared = macro_save(user=admin_user, name="Shared", reply_text="hi")
    assert set(macro_list_for_user(user=agent)) == {mine, shared}
    assert set(macro_list_for_user(user=other_agent)) == {shared}
    with pytest.raises(PermissionDenied):
        macro_apply(macro=mine, ticket=create_ticket(), actor=Actor.for_user(other_agent))
    with pytest.raises(PermissionDenied):
        macro_save(user=agent, name="Try shared", reply_text="x", shared=True)


def test_canned_replies_search_language_and_placeholders(admin_user, agent, create_ticket):
    canned_reply_save(user=admin_user, title="Password reset", language="en",
                      body="Hi {{requester.first_name}}, reset it at /reset. Ticket #{{ticket.number}}. {{agent.name}}")
    canned_reply_save(user=admin_user, title="Redefinir senha", language="pt-br",
                      body="Olá {{requester.first_name}}, redefina em /reset.")
    canned_reply_save(user=agent, title="My password note", body="personal", shared=False)
    assert [c.title for c in canned_reply_list_for_user(user=agent, query="password", language="en")] == [
        "Password reset", "My password note"]
    assert [c.title for c in canned_reply_list_for_user(user=agent, query="senha")] == ["Redefinir senha"]
    ticket = create_ticket()
    canned = canned_reply_list_for_user(user=agent, query="reset", language="en").first()
    assert render(canned.body, ticket=ticket, agent=agent) == (
        f"Hi {ticket.requester.first_name}, reset it at /reset. Ticket #{ticket.number}. {agent.display_name}")
    with pytest.raises(ValidationError, match="unknown placeholder ticket.password"):
        canned_reply_save(user=admin_user, title="Bad", body="{{ticket.password}}")


@pytest.mark.parametrize("active", ["en", "pt-br"])
def test_placeholders_speak_the_requesters_language_whatever_the_thread_last_had_active(create_ticket, active):
    # A worker renders replies for one customer after another: the labels follow each requester, not the language
    # left active by the previous one.
    ticket = create_ticket()
    ticket.priority = "high"
    text = "Priority {{ ticket.priority }}"
    with translation.override(active):
        ticket.requester.locale = "pt-br"
        assert render(text, ticket=ticket) == "Priority Alta"
        ticket.requester.locale = "en"
        assert render(text, ticket=ticket) == "Priority High"
        assert render(text, ticket=ticket, language="pt-br") == "Priority Alta"

"""Settings pages, the macro and canned-reply endpoints and the availability switch, through the test client."""

import json

import pytest
from django.urls import reverse

from atende.automation.models import Macro, RoutingRule, Trigger
from atende.automation.services.definitions import canned_reply_save, macro_save, rule_save
from atende.core.actor import Actor
from atende.tickets.models import Message
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

SETTINGS_PAGES = [
    ("automation:index", {}), ("automation:rules", {"kind": "routing"}), ("automation:rules", {"kind": "triggers"}),
    ("automation:rules", {"kind": "time-rules"}), ("automation:rule_new", {"kind": "triggers"}),
    ("automation:teams", {}), ("sla:policies", {}), ("sla:policy_new", {}), ("sla:calendars", {}),
    ("sla:calendar_new", {}),
]


@pytest.mark.parametrize("name,kwargs", SETTINGS_PAGES)
def test_settings_pages_are_for_admins_only(client, name, kwargs, customer, agent, admin_user):
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (customer, agent):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_admin_creates_a_trigger_and_sees_a_clear_error_for_bad_input(client, admin_user):
    client.force_login(admin_user)
    url = reverse("automation:rule_new", kwargs={"kind": "triggers"})
    bad = client.post(url, {"name": "VIP", "events": ["created"], "is_active": "on",
                            "conditions": json.dumps({"all": [{"field": "colour", "op": "is", "value": "red"}]}),
                            "actions": json.dumps([{"type": "add_tags", "value": ["vip"]}])})
    assert bad.status_code == 200 and "unknown field “colour”" in bad.content.decode()
    broken = client.post(url, {"name": "VIP", "events": ["created"], "conditions": "{oops", "actions": "[]"})
    assert "Not valid JSON" in broken.content.decode()
    assert not Trigger.objects.exists()
    ok = client.post(url, {"name": "VIP", "events": ["created"], "is_active": "on",
                           "conditions": json.dumps({"all": [{"field": "subject", "op": "contains", "value": "vip"}]}),
                           "actions": json.dumps([{"type": "add_tags", "value": ["vip"]}])})
    assert ok.status_code == 302
    trigger = Trigger.objects.get()
    assert trigger.events == ["created"] and trigger.actions == [{"type": "add_tags", "value": ["vip"]}]


def test_reorder_and_delete_rules(client, admin_user, team):
    client.force_login(admin_user)
    first = rule_save(kind="routing", name="First", actions=[{"type": "set_team", "value": team.pk}])
    second = rule_save(kind="routing", name="Second", actions=[{"type": "set_team", "value": team.pk}])
    client.post(reverse("automation:rule_move", kwargs={"kind": "routing", "rule_id": second.pk}), {"direction": "up"})
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == ["Second", "First"]
    page = client.get(reverse("automation:rules", kwargs={"kind": "routing"})).content.decode()
    assert page.index("Second") < page.index("First")
    client.post(reverse("automation:rule_delete", kwargs={"kind": "routing", "rule_id": first.pk}))
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Second"]


def test_preview_explains_each_condition_without_changing_the_ticket(client, admin_user, customer):
    client.force_login(admin_user)
    rule = rule_save(kind="trigger", name="Urgent words", events=["created"],
                     conditions={"all": [{"field": "subject", "op": "contains_any_words", "value": "down outage"}]},
                     actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = make_ticket(requester=customer, subject="Site is down")
    url = reverse("automation:rule_preview", kwargs={"kind": "triggers", "rule_id": rule.pk})
    page = client.get(url, {"ticket": ticket.number}).content.decode()
    assert f"Matches ticket #{ticket.number}" in page and "Set priority: urgent" in page
    ticket.refresh_from_db()
    assert ticket.priority != "urgent"
    assert "was not found" in client.get(url, {"ticket": 999999}).content.decode()


def test_sla_policy_and_calendar_pages_save(client, admin_user, team):
    client.force_login(admin_user)
    response = client.post(reverse("sla:calendar_new"), {
        "name": "São Paulo", "time_zone": "America/Sao_Paulo", "hours": "mon-fri 09:00-12:00, 13:00-18:00",
        "holidays": "*-12-25 Natal\n2025-03-04 Carnaval", "teams": [team.pk]})
    assert response.status_code == 302
    from atende.sla.models import BusinessCalendar, SlaPolicy

    calendar = BusinessCalendar.objects.get()
    assert calendar.hours.count() == 10 and calendar.holidays.filter(yearly=True).count() == 1
    bad = client.post(reverse("sla:calendar_new"), {"name": "X", "time_zone": "Mars/Olympus", "hours": "mon 9-10"})
    assert "Unknown time zone" in bad.content.decode()
    response = client.post(reverse("sla:policy_new"), {
        "name": "VIP", "is_active": "on", "business_hours": "on", "first_reply_minutes": "30",
        "resolution_minutes": "240", "warn_before_minutes": "10",
        "conditions": json.dumps({"all": [{"field": "tags", "op": "includes_any", "value": ["vip"]}]}),
        "breach_actions": json.dumps([{"type": "raise_priority"}]), "warning_actions": ""})
    assert response.status_code == 302
    assert SlaPolicy.objects.get().breach_actions == [{"type": "raise_priority"}]
    bad = client.post(reverse("sla:policy_new"), {"name": "Bad", "first_reply_minutes": "30",
                                                  "conditions": json.dumps({"all": [
                                                      {"field": "subject", "op": "contains", "value": "x"}]})})
    assert "SLA policies cannot use “subject”" in bad.content.decode()


def test_macro_menu_and_one_click_apply(client, admin_user, agent, customer, team, django_capture_on_commit_callbacks):
    macro = macro_save(user=admin_user, name="Thanks and solve", actions=[{"type": "set_status", "value": "solved"}],
                       reply_text="Thanks {{requester.first_name}}!")
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team)
    client.force_login(agent)
    page = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    assert "Thanks and solve" in page and reverse("automation:macro_apply", args=[macro.pk, ticket.number]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("automation:macro_apply", args=[macro.pk, ticket.number]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    assert Message.objects.filter(ticket=ticket, kind="reply", author=agent,
                                  body_text=f"Thanks {customer.first_name}!").exists()
    client.force_login(customer)
    assert client.post(reverse("automation:macro_apply", args=[macro.pk, ticket.number])).status_code == 404


def test_personal_macro_cannot_be_applied_by_someone_else(client, agent, other_agent, customer):
    mine = Macro.objects.create(name="Mine", owner=agent, reply_text="x")
    ticket = make_ticket(requester=customer)
    client.force_login(other_agent)
    assert client.post(reverse("automation:macro_apply", args=[mine.pk, ticket.number])).status_code == 404


def test_canned_picker_renders_placeholders_for_the_ticket(client, admin_user, agent, customer):
    canned_reply_save(user=admin_user, title="Greeting", body="Hi {{requester.first_name}}, #{{ticket.number}}",
                      language="en")
    ticket = make_ticket(requester=customer)
    client.force_login(agent)
    page = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    assert "canned-picker" in page
    results = client.get(reverse("automation:canned_search"), {"q": "greet", "ticket": ticket.number,
                                                              "target": "id_body"}).content.decode()
    assert f'data-text="Hi {customer.first_name}, #{ticket.number}"' in results
    assert 'data-target="id_body"' in results
    client.force_login(customer)
    assert client.get(reverse("automation:canned_search"), {"q": "greet"}).status_code == 404


def test_availability_switch(client, agent, customer):
    client.force_login(agent)
    response = client.post(reverse("automation:availability"), {"availability": "online"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'value="online" selected' in response.content.decode()
    agent.refresh_from_db()
    assert agent.availability == "online"
    assert client.post(reverse("automation:availability"), {"availability": "asleep"},
                       HTTP_HX_REQUEST="true").status_code == 422
    client.force_login(customer)
    assert client.post(reverse("automation:availability"), {"availability": "online"}).status_code == 404


def test_team_assignment_page_saves_strategy(client, admin_user, team):
    client.force_login(admin_user)
    client.post(reverse("automation:team_save", args=[team.pk]), {f"t{team.pk}-strategy": "round_robin",
                                                                   f"t{team.pk}-reassign_when_offline": "on"})
    team.refresh_from_db()
    assert team.assignment_strategy == "round_robin" and team.reassign_when_offline

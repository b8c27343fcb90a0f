"""The visual builder's catalogue: it offers exactly what the services accept, so that every rule it can write is
one the services validate, and the settings pages embed it as a data block (no inline script)."""

import json

import pytest

from atende.accounts.tests.factories import AdminFactory
from atende.rules.actions import ACTIONS, ALL, validate_actions
from atende.rules.builder import ACTION_PARAMS, rule_builder_catalogue
from atende.rules.conditions import validate_conditions
from atende.rules.fields import FIELDS, ops_for
from atende.tickets.models import CustomField


def test_every_action_has_its_parameters_described():
    assert set(ACTION_PARAMS) == set(ACTIONS)


@pytest.mark.django_db
@pytest.mark.parametrize("context", ALL)
def test_catalogue_offers_what_each_context_accepts(context, team):
    catalogue = rule_builder_catalogue(context=context)
    assert [a["type"] for a in catalogue["actions"]] == [k for k, (_, where) in ACTIONS.items() if context in where]
    for entry in catalogue["fields"]:
        if entry["name"] in FIELDS:
            assert entry["ops"] == list(ops_for(FIELDS[entry["name"]], allow_changes=context == "trigger"))
    assert catalogue["refs"]["team"] == [[team.pk, team.name]]


@pytest.mark.django_db
def test_every_field_and_operator_the_builder_offers_validates(team, agent):
    """For each (field, operator) pair offered, a value of the control's kind passes the service's validation."""
    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "pro"],
                               choice_labels={"pro": "Pro plan"})
    catalogue = rule_builder_catalogue(context="trigger")
    sample = {"choice": None, "ref": None, "text": "word", "tags": ["vip"], "number": 3}
    for entry in catalogue["fields"]:
        for op in entry["ops"]:
            if op in catalogue["no_value_ops"]:
                value = None
            elif entry["kind"] == "choice":
                value = entry["choices"][0][0]
            elif entry["kind"] == "ref":
                options = catalogue["refs"][entry["ref"]]
                if not options:
                    continue
                value = options[0][0]
            else:
                value = sample[entry["kind"]]
            multiple = op in catalogue["list_value_ops"] or (entry["kind"] == "tags" and op in ("changed_to",
                                                                                                  "changed_from"))
            if multiple and not isinstance(value, list) and value is not None:
                value = [value]
            cond = {"field": entry["name"], "op": op, **({} if value is None else {"value": value})}
            validate_conditions({"all": [cond]}, allow_changes=True)
    plan = next(f for f in catalogue["fields"] if f["name"] == "custom_fields.plan")
    assert plan["choices"] == [["free", "free"], ["pro", "Pro plan"]]


@pytest.mark.django_db
def test_choice_parameters_list_only_values_the_actions_accept(team):
    catalogue = rule_builder_catalogue(context="macro")
    for action in catalogue["actions"]:
        for param in action["params"]:
            if param["control"].startswith("choice:"):
                for value, _label in catalogue["choices"][param["control"][7:]]:
                    if action["type"] == "set_status" and value == "new":
                        continue  # the builder leaves "new" out: no ticket moves back to it
                    validate_actions([{"type": action["type"], param["key"]: value}], context="macro")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/console/automation/triggers/new/", "/console/automation/routing/new/",
                                 "/console/automation/time-rules/new/", "/console/automation/macros/new/",
                                 "/console/sla/policies/new/"])
def test_settings_pages_embed_the_catalogue_as_data(client, url):
    client.force_login(AdminFactory())
    html = client.get(url).content.decode()
    assert 'data-rule-builder="conditions"' in html or "/macros/" in url
    assert 'data-rule-builder="actions"' in html
    start = html.index('<script id="rule-builder-catalogue" type="application/json">')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    assert json.loads(body)["actions"]
    assert "rule_builder.js" in html

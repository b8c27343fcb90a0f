"""The console header's availability switch, written by ``{% availability_switch %}``, is the HTML the template
wrote (kept below), in both languages, for each availability, a handed-on count and an error."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from atende.accounts.tests.factories import AgentFactory

TEMPLATE = (
    '{% load i18n automation_tags %}{% if user.is_authenticated and user.is_staff_member %}{% availability_choices as choices %}\n'
    '<form id="availability" class="inline availability-switch" method="post" action="{% url \'automation:availability\' %}"\n'
    '      hx-post="{% url \'automation:availability\' %}" hx-target="this" hx-swap="outerHTML" hx-trigger="change">\n'
    '  {% csrf_token %}<input type="hidden" name="next" value="{{ request.get_full_path }}">\n'
    '  <label class="visually-hidden" for="availability-select">{% translate "Availability" %}</label>\n'
    '  <span class="availability-dot availability-{{ user.availability }}" aria-hidden="true"></span>\n'
    '  <select id="availability-select" name="availability">\n'
    '    {% for value, label in choices %}<option value="{{ value }}"{% if value == user.availability %} selected{% endif %}>{{ label }}</option>{% endfor %}\n'
    '  </select>\n'
    '  <noscript><button type="submit">{% translate "Set" %}</button></noscript>\n'
    '  {% if moved %}<span class="small muted" role="status">{% blocktranslate count n=moved %}{{ n }} ticket handed on{% plural %}{{ n }} tickets handed on{% endblocktranslate %}</span>{% endif %}\n'
    '  {% if error %}<span class="small error" role="alert">{{ error }}</span>{% endif %}\n'
    '</form>\n'
    '{% endif %}\n'
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_switch_writes_what_the_template_wrote(language):
    agent = AgentFactory()
    new = Template('{% include "automation/_availability.html" %}')
    old = Template(TEMPLATE)
    request = RequestFactory().get("/console/?view=mine&q=<b>&x=\"1\"")
    cases = [{}, {"moved": 1}, {"moved": 3}, {"error": "Can't <go> & stay"}, {"csrf_token": "NOTPROVIDED"},
             {"moved": 2, "error": "both"}]
    with translation.override(language):
        for availability in ("online", "away", "offline"):
            agent.availability = availability
            for extra in cases:
                values = {"user": agent, "request": request, "csrf_token": "tok<en>", **extra}
                expected = old.render(Context(values))
                assert new.render(Context(values)) == expected, (availability, extra)
                assert 'selected>' in expected

"""A timeline message's header is written in Python: the markup must be what the template wrote, for every
kind of message and flag, every value escaped, in each language."""

from itertools import product
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import translation

from atende.console.views.ticket_timeline import TimelineItem, Times

# The header as ``_ticket_timeline.html`` wrote it.
TEMPLATE_HEADER = (
    '<header class="message-head">\n'
    '      <strong>{% if m.author %}{% if m.author.is_customer %}<a href="{% url \'console:customer\' m.author_id %}">{{ m.author.display_name }}</a>{% else %}{{ m.author.display_name }}{% endif %}{% else %}{% translate "System" %}{% endif %}</strong>\n'
    '      {% if m.kind == "note" %}<span class="badge note-badge">{% translate "Internal note" %}</span>{% elif m.kind == "system" %}<span class="badge">{% translate "System" %}</span>{% else %}<span class="badge reply-badge">{% translate "Public reply" %}</span>{% endif %}\n'
    '      {% if item.phone_call %}<span class="badge phone-badge">{% blocktranslate with direction=item.phone_call.direction seconds=item.phone_call.duration_seconds %}Phone call ({{ direction }}, {{ seconds }} s){% endblocktranslate %}</span>{% endif %}\n'
    '      <time class="muted small" datetime="{{ item.when.iso }}" title="{{ item.when.long }}">{{ item.when.short }}</time>\n'
    '      {% with delivery=item.delivery %}{% if delivery %}<span class="badge{% if delivery.state == \'failed\' %} warn{% endif %} platform-delivery" data-delivery="{{ delivery.state }}" {% if delivery.error %}title="{{ delivery.error }}"{% endif %}>{% blocktranslate with platform=delivery.get_platform_display state=delivery.get_state_display %}{{ platform }}: {{ state }}{% endblocktranslate %}</span>{% endif %}{% endwith %}\n'
    '      {% with email=item.email %}{% if email %}\n'
    '      {% if email.joined_as_cc %}<span class="badge warn email-flag" data-flag="joined-as-cc">{% translate "Was not on the ticket: added as CC" %}</span>{% endif %}\n'
    '      {% if email.message_id_reused %}<span class="badge warn email-flag" data-flag="message-id-reused">{% translate "Same Message-ID as an earlier message, different content" %}{% if email.message_id_reused.ticket_id != ticket.pk %} (<a href="{% url \'console:ticket\' email.message_id_reused.ticket_id %}">#{{ email.message_id_reused.ticket_id }}</a>){% endif %}</span>{% endif %}\n'
    '      {% if email.thread == "subject" %}<span class="muted small email-flag" data-flag="threaded-by-subject">{% translate "threaded by subject (its earlier message never arrived)" %}</span>{% endif %}\n'
    '      {% endif %}{% endwith %}\n'
    '    </header>'
)

TICKET_PK = 41
AUTHORS = [None, SimpleNamespace(is_customer=True, display_name='Ann <b>"A"</b> & Co'),
           SimpleNamespace(is_customer=False, display_name="Agent O'Neil")]
PHONE_CALLS = [None, {}, {"direction": "inbound", "duration_seconds": 1234},
               {"direction": "<out>", "duration_seconds": None}, {"duration_seconds": 5}]
EMAILS = [None, {}, {"joined_as_cc": True}, {"message_id_reused": {"ticket_id": TICKET_PK}},
          {"message_id_reused": {"ticket_id": 7}, "thread": "subject", "joined_as_cc": 1},
          {"thread": "references"}, "not a dict"]


def _delivery(state, error):
    return SimpleNamespace(state=state, error=error, get_platform_display=lambda: "Telegram <bot>",
                           get_state_display=lambda: state.title())


DELIVERIES = [None, _delivery("failed", 'Blocked by "user" <x>'), _delivery("read", "")]


def _items():
    when = Times(iso="2026-12-07T01:02:03+00:00", long="Dec. 7, 2026, 1:02 a.m.", short="12/07/2026 1:02 a.m.")
    for author, kind, phone, email, delivery in product(AUTHORS, ["reply", "note", "system"], PHONE_CALLS, EMAILS,
                                                        DELIVERIES):
        message = SimpleNamespace(author=author, author_id=9 if author else None, kind=kind)
        yield TimelineItem(kind="message", created_at=None, message=message, when=when, phone_call=phone,
                           email=email, delivery=delivery, ticket_pk=TICKET_PK)


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_message_headers_are_what_the_template_wrote(language):
    template = engines["django"].from_string("{% load i18n %}" + TEMPLATE_HEADER)
    count = 0
    with translation.override(language):
        for item in _items():
            expected = template.render({"item": item, "m": item.message, "ticket": {"pk": TICKET_PK}})
            assert item.header == expected, (item.message.kind, item.phone_call, item.email, item.delivery)
            count += 1
    assert count == 3 * 3 * 5 * 7 * 3

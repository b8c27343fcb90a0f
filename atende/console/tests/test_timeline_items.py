"""The timeline's entries are written in Python: the markup must be what the template's loop wrote, for public
replies, notes and system messages, plain and HTML bodies, attachments, remote images and runs of changes, every
value escaped, in each language."""

from itertools import product
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import translation

from atende.console.timeline_items import TimelineEntries
from atende.console.views.ticket_timeline import TimelineItem, Times
from atende.tickets.templatetags import message_html

# The loop as ``_ticket_timeline.html`` wrote it.
TEMPLATE_LOOP = (
    '{% for item in timeline %}{% if item.kind == "message" %}{% with m=item.message %}\n'
    '  <li class="message {{ m.kind }}" id="message-{{ m.pk }}">\n'
    '    {{ item.header }}\n'
    '    {% message_body m proxy=True as body %}\n'
    '    <div class="message-body" id="message-body-{{ m.pk }}">{% if m.body_html %}{{ body.html }}{% else %}{{ m.body_text|linebreaksbr }}{% endif %}</div>\n'
    '    {% if body.remote_images %}<p class="remote-images muted small">{% blocktranslate count counter=body.remote_images %}{{ counter }} remote image not loaded, so the sender cannot tell you opened this message.{% plural %}{{ counter }} remote images not loaded, so the sender cannot tell you opened this message.{% endblocktranslate %}\n'
    '      <button type="button" class="button small" data-load-remote-images="message-body-{{ m.pk }}" data-loaded-text="{% translate \'Images loaded through the desk\' %}">{% translate "Load images" %}</button></p>{% endif %}\n'
    '    {% with attachments=m.attachments.all %}{% if attachments %}\n'
    '    <ul class="attachments" aria-label="{% translate \'Attachments\' %}">\n'
    '      {% for a in attachments %}<li>{% if a.is_image %}<a href="{% url \'tickets:attachment\' a.pk %}" target="_blank" rel="noopener"><img src="{% url \'tickets:attachment\' a.pk %}" alt="{{ a.filename }}" loading="lazy" class="attachment-preview"></a>{% endif %}\n'
    '        <a href="{% url \'tickets:attachment\' a.pk %}?download">{{ a.filename }}</a> <span class="muted small">{{ a.size|filesizeformat }}</span></li>{% endfor %}\n'
    '    </ul>{% endif %}{% endwith %}\n'
    '  </li>{% endwith %}\n'
    '{% else %}\n'
    '  <li class="ws-events">{% if item.is_group %}\n'
    '    <details><summary>{% with last=item.events|last %}{% blocktranslate count counter=item.events|length %}{{ counter }} change{% plural %}{{ counter }} changes{% endblocktranslate %} · <span class="muted">{{ last.text }}</span>{% endwith %}</summary>\n'
    '      <ul>{% for row in item.events %}<li>{{ row.text }} <span class="muted small">— {{ row.actor }}, <time datetime="{{ row.when.iso }}">{{ row.when.short }}</time></span></li>{% endfor %}</ul>\n'
    '    </details>{% else %}{% with row=item.events.0 %}\n'
    '    <p>{{ row.text }} <span class="muted small">— {{ row.actor }}, <time datetime="{{ row.when.iso }}">{{ row.when.short }}</time></span></p>{% endwith %}{% endif %}\n'
    '  </li>\n'
    '{% endif %}{% endfor %}'
)

WHEN = Times(iso="2026-12-07T01:02:03-03:00", long="Dec. 7, 2026, 1:02 a.m.", short="12/07/2026 <1:02> a.m.")


class _Attachments(list):
    def all(self):
        return self


def _attachment(pk, filename, size, image, content_id=""):
    return SimpleNamespace(pk=pk, filename=filename, size=size, is_image=image, content_id=content_id)


ATTACHMENTS = [
    [],
    [_attachment(5, 'report "Q1" <final>.pdf', 123_456, False)],
    [_attachment(6, "photo&'1'.png", 999, True, "img1@x"), _attachment(7, "a.txt", 0, False),
     _attachment(8, "big.bin", 5 * 1024 ** 3, False)],
]
BODIES = [
    ("Hello <b>there</b> & \"friends\"\n'second' line\r\nthird", ""),
    ("", ""),
    ("old\rmac\r\n\r\nend\n", None),
    ("plain", '<p>Hi &amp; <b>bold</b> "q" \'s\'</p><script>alert(1)</script><p onclick="x()">x</p>'),
    ("plain", '<p>cid image <img src="cid:img1@x" alt="in&line"></p>'),
    ("plain", '<p><img src="https://tracker.example/p.gif?a=1&b=2"> one</p>'),
    ("plain", '<img src="http://a.example/1.png"><img src="https://b.example/2.png" alt="&lt;two&gt;">'),
]
AUTHORS = [None, SimpleNamespace(is_customer=True, display_name='Ann <b>"A"</b> & Co'),
           SimpleNamespace(is_customer=False, display_name="Agent O'Neil")]
EVENT_RUNS = [
    [{"text": "Status: Open → Pending", "actor": "Agent O'Neil", "when": WHEN}],
    [{"text": 'Tags: +<x> −"y"', "actor": "System", "when": WHEN},
     {"text": "Priority: Low → High & more", "actor": 'Ann <b>"A"</b>', "when": WHEN}],
    [{"text": f"change {i} <{i}>", "actor": "Bot", "when": WHEN} for i in range(5)],
]


def _timeline():
    pk = 100
    items = []
    for kind, (text, html), attachments, author in product(["reply", "note", "system"], BODIES, ATTACHMENTS,
                                                          AUTHORS):
        pk += 1
        message = SimpleNamespace(pk=pk, kind=kind, body_text=text, body_html=html, author=author,
                                  author_id=9 if author else None, attachments=_Attachments(attachments))
        metadata = {"email": {"thread": "subject"}} if pk % 7 == 0 else None
        items.append(TimelineItem(kind="message", created_at=None, message=message, when=WHEN, ticket_pk=41,
                                  email=metadata and metadata["email"]))
        if pk % 5 == 0:
            run = EVENT_RUNS[pk % 3]
            items.append(TimelineItem(kind="events", created_at=None, events=list(run)))
    return items


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_timeline_entries_are_what_the_template_wrote(language, monkeypatch):
    # The proxy's signature holds the second it was made.
    monkeypatch.setattr(message_html, "proxy_url", lambda url: f"/proxy?u={url}&s=1")
    template = engines["django"].from_string("{% load i18n message_html %}" + TEMPLATE_LOOP)
    timeline = _timeline()
    with translation.override(language):
        for item in timeline:  # one by one, to say which differs
            expected = template.render({"timeline": [item]})
            assert str(TimelineEntries([item]).__html__()) == expected, (item.kind, item.message, item.events)
        assert TimelineEntries(timeline).__html__() == template.render({"timeline": timeline})
    assert len(timeline) > 3 * 6 * 3 * 3


def test_the_entries_escape_what_they_show():
    item = _timeline()[0]
    page = TimelineEntries([item]).__html__()
    assert "Hello &lt;b&gt;there&lt;/b&gt; &amp; &quot;friends&quot;<br>&#x27;second&#x27; line<br>third" in page
    assert "<b>" not in page.split("message-body")[1]

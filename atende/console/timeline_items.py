"""The timeline's entries (messages with their bodies and attachments, runs of changes) written in Python, as the
message header is (``timeline_header.py``): the template's loop, lookups and tags per message were the largest
part of the ticket page's rendering. The markup is what ``_ticket_timeline.html`` wrote, every value escaped as
the template escaped it.
"""

from __future__ import annotations

from html import escape as _e

from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from atende.tickets.templatetags.message_html import render_message_html

from .reversing import url_with_id
from .timeline_header import _text, message_header, words


class TimelineEntries:
    """The ``<li>`` of each timeline item, written when the template writes this value (after the view has set
    the messages' delivery states)."""

    def __init__(self, items):
        self.items = items

    def __html__(self) -> SafeString:
        texts = words()
        return mark_safe("".join(  # noqa: S308 - every value is escaped where it is written
            _message(item, texts) if item.kind == "message" else _events(item.events) for item in self.items))

    __str__ = __html__


def _message(item, texts) -> str:
    m = item.message
    pk = m.pk
    attachments = m.attachments.all()
    remote = 0
    if m.body_html:
        body = render_message_html(m.body_html, attachments=attachments, proxy=True)
        shown, remote = str(body.html), body.remote_images
    else:
        shown = _lines(m.body_text)
    images = ""
    if remote:
        counted = ngettext(
            "%(counter)s remote image not loaded, so the sender cannot tell you opened this message.",
            "%(counter)s remote images not loaded, so the sender cannot tell you opened this message.",
            remote) % {"counter": remote}
        images = (f'<p class="remote-images muted small">{counted}\n      <button type="button" class="button small" '
                  f'data-load-remote-images="message-body-{pk}" '
                  f'data-loaded-text="{_e(gettext("Images loaded through the desk"))}">'
                  f'{_e(gettext("Load images"))}</button></p>')
    files = ""
    if attachments:
        rows = []
        for a in attachments:
            url = url_with_id("tickets:attachment", a.pk)
            name = _text(a.filename)
            preview = (f'<a href="{_e(url)}" target="_blank" rel="noopener"><img src="{_e(url)}" alt="{name}" '
                       f'loading="lazy" class="attachment-preview"></a>') if a.is_image else ""
            rows.append(f'<li>{preview}\n        <a href="{_e(url)}?download">{name}</a> '
                        f'<span class="muted small">{_text(filesizeformat(a.size))}</span></li>')
        files = (f'\n    <ul class="attachments" aria-label="{_e(gettext("Attachments"))}">\n      {"".join(rows)}'
                 f'\n    </ul>')
    return (f'\n  <li class="message {_text(m.kind)}" id="message-{pk}">\n    {message_header(item, ticket_pk=item.ticket_pk, texts=texts)}\n    \n'
            f'    <div class="message-body" id="message-body-{pk}">{shown}</div>\n    {images}\n    {files}\n  </li>\n')


def _lines(text) -> str:
    """The ``linebreaksbr`` filter, without its lazy-string wrappers for the usual plain string."""
    if type(text) is not str:
        return str(linebreaksbr(text, autoescape=True))
    return _e(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _events(rows) -> str:
    if len(rows) > 1:
        counted = ngettext("%(counter)s change", "%(counter)s changes", len(rows)) % {"counter": len(rows)}
        lines = "".join(f"<li>{_row(row)}</li>" for row in rows)
        inner = (f'\n    <details><summary>{counted} · <span class="muted">{_text(rows[-1]["text"])}</span></summary>'
                 f'\n      <ul>{lines}</ul>\n    </details>')
    else:
        inner = f"\n    <p>{_row(rows[0])}</p>"
    return f'\n  <li class="ws-events">{inner}\n  </li>\n'


def _row(row) -> str:
    when = row["when"]
    return (f'{_text(row["text"])} <span class="muted small">— {_text(row["actor"])}, '
            f'<time datetime="{_text(when.iso)}">{_text(when.short)}</time></span>')

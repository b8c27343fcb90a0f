"""A timeline message's header (author, kind, phone call, time, delivery, email flags) written in Python, as the
list rows are (``rows.py``): the template's branches, lookups and ``{% url %}``/``{% translate %}`` tags per message
were a large part of the ticket page's timeline. The markup is what ``_ticket_timeline.html`` wrote, every value
escaped as the template escaped it.
"""

from __future__ import annotations

from html import escape as _e  # Django's ``escape`` without its lazy-string wrapper (the same five characters)
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from .reversing import url_with_id

_LINE = "\n      "


def _text(value: Any) -> str:
    """A value as ``{{ }}`` writes it: escaped unless already marked safe, ``None`` as "None"."""
    return str(value) if isinstance(value, SafeString) else _e(str(value))


def _field(data: Any, key: str) -> Any:
    # A template lookup that fails gives "" (and a missing key is not an error).
    return data.get(key, "") if isinstance(data, dict) else ""


_WORDS: dict[str, dict[str, str]] = {}


def words() -> dict[str, str]:
    """The header's fixed texts in the active language, translated and escaped once per process."""
    language = get_language()
    found = _WORDS.get(language)
    if found is None:
        found = _WORDS[language] = {"system": _e(gettext("System")), "note": _e(gettext("Internal note")),
                                    "reply": _e(gettext("Public reply"))}
    return found


def message_header(item, *, ticket_pk: int, texts: dict[str, str] | None = None) -> SafeString:
    """``texts``: ``words()``, when the caller writes many headers."""
    texts = texts or words()
    m = item.message
    author = m.author
    if author is None:
        who = texts["system"]
    elif author.is_customer:
        who = f'<a href="{_e(url_with_id("console:customer", m.author_id))}">{_text(author.display_name)}</a>'
    else:
        who = _text(author.display_name)
    if m.kind == "note":
        badge = f'<span class="badge note-badge">{texts["note"]}</span>'
    elif m.kind == "system":
        badge = f'<span class="badge">{texts["system"]}</span>'
    else:
        badge = f'<span class="badge reply-badge">{texts["reply"]}</span>'
    phone = ""
    if item.phone_call:
        text = gettext("Phone call (%(direction)s, %(seconds)s s)") % {
            "direction": _text(_field(item.phone_call, "direction")),
            "seconds": _text(_field(item.phone_call, "duration_seconds"))}
        phone = f'<span class="badge phone-badge">{text}</span>'
    when = item.when
    time = (f'<time class="muted small" datetime="{_text(when.iso)}" title="{_text(when.long)}">'
            f'{_text(when.short)}</time>')
    return mark_safe(  # noqa: S308 - every value above and below is escaped
        f'<header class="message-head">{_LINE}<strong>{who}</strong>{_LINE}{badge}{_LINE}{phone}{_LINE}{time}'
        f'{_LINE}{_delivery(item.delivery)}{_LINE}{_email_flags(item.email, ticket_pk)}\n    </header>')


def _delivery(delivery) -> str:
    if not delivery:
        return ""
    warn = " warn" if delivery.state == "failed" else ""
    title = f'title="{_text(delivery.error)}"' if delivery.error else ""
    text = gettext("%(platform)s: %(state)s") % {"platform": _text(delivery.get_platform_display()),
                                                  "state": _text(delivery.get_state_display())}
    return (f'<span class="badge{warn} platform-delivery" data-delivery="{_text(delivery.state)}" {title}>'
            f'{text}</span>')


def _email_flags(email, ticket_pk: int) -> str:
    if not email:
        return ""
    joined = reused_flag = thread = ""
    if _field(email, "joined_as_cc"):
        joined = (f'<span class="badge warn email-flag" data-flag="joined-as-cc">'
                  f'{_e(gettext("Was not on the ticket: added as CC"))}</span>')
    reused = _field(email, "message_id_reused")
    if reused:
        other = reused.get("ticket_id") if isinstance(reused, dict) else None
        link = ""
        if other != ticket_pk:
            link = f' (<a href="{_e(reverse("console:ticket", args=[other]))}">#{_text(other)}</a>)'
        reused_flag = (f'<span class="badge warn email-flag" data-flag="message-id-reused">'
                       f'{_e(gettext("Same Message-ID as an earlier message, different content"))}{link}</span>')
    if _field(email, "thread") == "subject":
        thread = (f'<span class="muted small email-flag" data-flag="threaded-by-subject">'
                  f'{_e(gettext("threaded by subject (its earlier message never arrived)"))}</span>')
    return f"{_LINE}{joined}{_LINE}{reused_flag}{_LINE}{thread}{_LINE}"

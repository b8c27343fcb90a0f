from django import template
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atende.accounts.choices import Availability
from atende.automation.selectors import macro_menu_for_user

register = template.Library()

MACRO_ID = 987654321  # stands for each macro's id in the menu's reversed URL


@register.simple_tag
def macros_for(user):
    """Macros the user may apply (shared ones and their own): what the menu shows of them (their actions, a JSON
    list, are read when one is applied, and the macro checked again then)."""
    return macro_menu_for_user(user=user)


NUMBER = 876543219  # stands for the ticket's number in it
# Each macro's item but its ticket number and CSRF token, for each language and script prefix (its title's truncation
# and escaping were most of the menu's cost): written once per process and macro version.
_MENU_ROWS: dict[tuple, tuple[str, str]] = {}
KEPT_ROWS = 2048  # bounds the copies of macros edited since the process started


def _menu_row(macro) -> tuple[str, str]:
    key = (translation.get_language(), get_script_prefix(), macro.pk, macro.name, macro.reply_text,
           macro.owner_id is not None)
    row = _MENU_ROWS.get(key)
    if row is None:
        pattern = reverse("automation:macro_apply", args=[MACRO_ID, NUMBER])
        head = pattern.removesuffix(f"{NUMBER}/").replace(f"/{MACRO_ID}/", f"/{int(macro.pk)}/", 1)
        personal = format_html(' <span class="small muted">({})</span>', _("personal")) if macro.owner_id else ""
        row = (escape(head), format_html('\n      <button type="submit" class="link" title="{}">{}</button>{}'
                                         '</form></li>\n  ', Truncator(macro.reply_text).chars(80), macro.name,
                                         personal))
        if len(_MENU_ROWS) >= KEPT_ROWS:
            _MENU_ROWS.clear()
        _MENU_ROWS[key] = row
    return row


@register.simple_tag(takes_context=True)
def macro_menu_items(context, macros, ticket):
    """The menu's items, written in Python (the template's loop, ``{% url %}``, ``{% csrf_token %}`` and filters per
    macro were most of the menu's time), every value escaped: one form per macro that applies it to ``ticket``."""
    csrf_token = context.get("csrf_token")  # as ``{% csrf_token %}`` writes it
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">' \
        if csrf_token and csrf_token != "NOTPROVIDED" else ""
    tail = f"{int(ticket.number)}/"
    items = []
    for macro in macros:
        head, rest = _menu_row(macro)
        url = f"{head}{tail}"
        items.append(f'\n    <li><form method="post" action="{url}"\n              hx-post="{url}" hx-swap="none">'
                     f'{token}{rest}')
    return mark_safe("".join(items))


@register.simple_tag
def availability_choices():
    return Availability.choices


# The switch's fixed parts for each language, script prefix and availability (translations and a reversed URL,
# nothing about who asks): written once per process.
_SWITCH_PARTS: dict[tuple[str, str, str], tuple[str, str]] = {}


def _switch_parts(current: str) -> tuple[str, str]:
    key = (translation.get_language(), get_script_prefix(), current)
    parts = _SWITCH_PARTS.get(key)
    if parts is None:
        url = reverse("automation:availability")
        options = format_html_join("", '<option value="{}"{}>{}</option>',
                                   ((value, mark_safe(" selected") if value == current else "", label)
                                    for value, label in Availability.choices))
        parts = (format_html('<form id="availability" class="inline availability-switch" method="post" action="{}"\n'
                             '      hx-post="{}" hx-target="this" hx-swap="outerHTML" hx-trigger="change">\n  ',
                             url, url),
                 format_html('">\n  <label class="visually-hidden" for="availability-select">{}</label>\n'
                             '  <span class="availability-dot availability-{}" aria-hidden="true"></span>\n'
                             '  <select id="availability-select" name="availability">\n    {}\n  </select>\n'
                             '  <noscript><button type="submit">{}</button></noscript>\n  ',
                             _("Availability"), current, options, _("Set")))
        if current in Availability.values:  # bounded: a value outside the choices is written, not kept
            _SWITCH_PARTS[key] = parts
    return parts


@register.simple_tag(takes_context=True)
def availability_switch(context):
    """The console header's availability form, written in Python from parts kept per language (the template's
    tags and loop were most of the header's cost on every page), every value escaped as the template escaped it."""
    request, csrf_token = context.get("request"), context.get("csrf_token")
    head, middle = _switch_parts(context.get("user").availability)
    token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">' \
        if csrf_token and csrf_token != "NOTPROVIDED" else ""
    moved, error = context.get("moved"), context.get("error")
    moved_html = format_html('<span class="small muted" role="status">{}</span>', mark_safe(
        ngettext("%(n)s ticket handed on", "%(n)s tickets handed on", moved) % {"n": conditional_escape(moved)})) \
        if moved else ""
    error_html = format_html('<span class="small error" role="alert">{}</span>', error) if error else ""
    path = escape(request.get_full_path()) if request is not None else ""
    return mark_safe(f'{head}{token}<input type="hidden" name="next" value="{path}{middle}{moved_html}\n'
                     f'  {error_html}\n</form>')

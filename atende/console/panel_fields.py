"""The side panel's fields (and the reply box's) as the page first shows them, written in Python from the ticket's values: the markup
``TicketFieldsForm`` and ``_ticket_panel.html`` write for the unbound form, without building the form (14 fields
deep-copied, their widgets and bound fields) on every page. A submitted form with errors is still rendered by the
form; so is a panel with a custom field of a kind written here by no code (number, date, checkbox)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from atende.tickets.choices import FieldKind, Level, TicketPriority, TicketType
from atende.tickets.models import Ticket

from .forms_workspace import KEEP, ReplyForm, _attrs, select_html, status_choices
from .options import TicketOptions

PREFIX = "panel"
# Custom field kinds written here; the others fall back to the form.
WRITTEN_KINDS = frozenset({FieldKind.TEXT, FieldKind.DROPDOWN})


def _selected(value: Any) -> set[str]:
    # ``Select.format_value``
    values = value if isinstance(value, list | tuple) else [value]
    return {"" if v is None else str(v) for v in values}


def _shown(value: Any) -> str | None:
    # ``Widget.format_value``: nothing for an empty value
    return None if value is None or value == "" else str(value)


# The parts every ticket shares, written once per language and content: each field's opening (its label and help
# text) and each select with its selected value (the option lists are the process's copies or fixed choices, so
# a renamed agent or a new category is a new key). Forgotten all at once past this many.
WRITTEN_KEPT = 4096
_WRITTEN: dict[tuple, Any] = {}


def _kept(key: tuple, write) -> Any:
    html = _WRITTEN.get(key)
    if html is None:
        if len(_WRITTEN) >= WRITTEN_KEPT:
            _WRITTEN.clear()
        html = _WRITTEN[key] = write()
    return html


class _Fields:
    def __init__(self, language: str):
        self.language = language
        self.parts: list[str] = []

    def add(self, name: str, label: Any, widget: str, help_text: Any = "") -> None:
        head = _kept(("head", self.language, name, label, help_text), lambda: self._head(name, label, help_text))
        self.parts.append(f"{head}{widget}</div>")

    @staticmethod
    def _head(name: str, label: Any, help_text: Any) -> str:
        html = format_html('<div class="field field-{}">\n      <label for="{}_{}">{}</label>', name, PREFIX, name,
                           label)
        if help_text:
            html += format_html('\n      <div class="helptext" id="{}_{}_helptext">{}</div>', PREFIX, name, help_text)
        return f"{html}\n      "

    @staticmethod
    def attrs(name: str, widget_attrs: dict[str, Any], *, required: bool = False, help_text: Any = "") -> dict:
        # ``BoundField.build_widget_attrs`` and ``as_widget``: the widget's own attributes, then required,
        # aria-describedby and the id.
        attrs = dict(widget_attrs)
        if required:
            attrs["required"] = True
        if help_text:
            attrs["aria-describedby"] = f"{PREFIX}_{name}_helptext"
        attrs["id"] = f"{PREFIX}_{name}"
        return attrs

    def text(self, name: str, label: Any, value: Any, *, input_type: str = "text", widget_attrs=None,
             required: bool = False, help_text: Any = "") -> None:
        shown = _shown(value)
        opening, tail = _kept(("input", name, input_type, required, help_text, tuple((widget_attrs or {}).items())),
                              lambda: (format_html('<input type="{}" name="{}"', input_type, name), _attrs(
                                  self.attrs(name, widget_attrs or {}, required=required, help_text=help_text))))
        value_html = f' value="{conditional_escape(shown)}"' if shown is not None else ""
        self.add(name, label, f"{opening}{value_html}{tail}>", help_text)

    def select(self, name: str, label: Any, choices, value: Any, *, content: Hashable = None,
               help_text: Any = "") -> None:
        """``content``: what ``choices`` hold, for reusing the select written for the same value (None: write it)."""
        def write() -> str:
            # None of the panel's selects has the required attribute: either not required, or its first option
            # is not empty (``Select.use_required_attribute``).
            options = [("" if option_value is None else str(option_value), option_label)
                       for option_value, option_label in choices()]
            return select_html(name, options, _selected(value), self.attrs(name, {}, help_text=help_text))

        widget = write() if content is None else _kept(("select", self.language, name, content, value), write)
        self.add(name, label, widget, help_text)


def panel_fields_html(ticket: Ticket, *, tag_names: list[str], options: TicketOptions) -> SafeString | None:
    """The fields of the panel's form, visible then hidden, as the template writes them for ``TicketFieldsForm(
    ticket=ticket, tag_names=tag_names)``; None when a custom field needs the form."""
    if any(field.kind not in WRITTEN_KINDS for field in options.custom_fields):
        return None
    fields = _Fields(get_language())
    fields.text("subject", _("Subject"), ticket.subject, widget_attrs={"maxlength": "255"}, required=True)
    fields.text("requester", _("Requester (email)"), ticket.requester.email, input_type="email",
                widget_attrs={"maxlength": "320"}, required=True)
    fields.select("team", _("Team"), lambda: [("", _("No team")), *options.teams], ticket.team_id,
                  content=options.teams)
    fields.select("assignee", _("Assignee"), lambda: [("", _("Nobody")), *options.agents], ticket.assignee_id,
                  content=options.agents)
    fields.select("status", _("Status"), lambda: status_choices(ticket.status), ticket.status, content="status")
    summary = _shown(ticket.resolution_summary)
    fields.add("resolution_summary", _("Resolution summary"),
               '<textarea name="resolution_summary" cols="40" rows="2" id="panel_resolution_summary">\n'
               f'{conditional_escape(summary) if summary else ""}</textarea>')

    def priorities():
        current_auto = TicketPriority(ticket.priority).label if not ticket.priority_manual else None
        auto_label = _("Automatic (%(current)s)") % {"current": current_auto} if current_auto else _("Automatic")
        return [(KEEP, auto_label), *TicketPriority.choices]

    fields.select("priority", _("Priority"), priorities, ticket.priority if ticket.priority_manual else KEEP,
                  content=("priority", None if ticket.priority_manual else ticket.priority))
    fields.select("urgency", _("Urgency"), lambda: Level.choices, ticket.urgency, content="level")
    fields.select("impact", _("Impact"), lambda: Level.choices, ticket.impact, content="level")
    fields.select("type", _("Type"), lambda: TicketType.choices, ticket.type, content="type")
    fields.select("category", _("Category"), lambda: [("", _("None")), *options.categories], ticket.category_id,
                  content=options.categories)
    fields.text("tags", _("Tags"), ", ".join(tag_names), help_text=_("Separated by commas."))
    values = ticket.custom_fields or {}
    for field in options.custom_fields:
        value = values.get(field.key)
        value = "" if value is None else value
        name = f"cf_{field.key}"
        if field.kind == FieldKind.DROPDOWN:
            fields.select(name, field.display_label(), lambda field=field: [("", "—"), *field.options()], value,
                          help_text=field.help_text)
        else:
            fields.text(name, field.display_label(), value, widget_attrs={"maxlength": "5000"},
                        help_text=field.help_text)
    version = _shown(ticket.version)
    version_html = f' value="{conditional_escape(version)}"' if version is not None else ""
    hidden = f'<input type="hidden" name="expected_version"{version_html} id="panel_expected_version">'
    # What the template writes between the CSRF input and the save button (no errors on a form never submitted).
    return mark_safe(f"\n    \n    {''.join(fields.parts)}\n    {hidden}")  # noqa: S308 - every part is escaped above


# The reply box's fields as the page opens: the same for every ticket in a status (the status menu), whether the
# agent may reply (the kind's choices) and the language, but for the version, which is written here.
_REPLY_FIELDS: dict[tuple, dict[str, Any]] = {}
REPLY_SHOWN = ("kind", "body", "attachments", "set_status")


def reply_form_as_opened(ticket: Ticket, *, can_reply: bool) -> dict[str, Any]:
    """What ``_ticket_reply.html`` reads of an unbound ``ReplyForm(ticket=ticket, can_reply=can_reply)``: each
    field's ``as_field_group`` (and the body's ``id_for_label``), the hidden version, no errors."""
    key = (get_language(), can_reply, ticket.status)
    fields = _REPLY_FIELDS.get(key)
    if fields is None:
        if len(_REPLY_FIELDS) >= WRITTEN_KEPT:
            _REPLY_FIELDS.clear()
        form = ReplyForm(ticket=ticket, can_reply=can_reply)
        fields = _REPLY_FIELDS[key] = {
            name: {"as_field_group": form[name].as_field_group(), "id_for_label": form[name].id_for_label}
            for name in REPLY_SHOWN if name in form.fields}
    version = _shown(ticket.version)
    version_html = f' value="{conditional_escape(version)}"' if version is not None else ""
    return {**fields, "non_field_errors": "", "expected_version": mark_safe(  # noqa: S308 - escaped
        f'<input type="hidden" name="expected_version"{version_html} id="reply_expected_version">')}

"""Forms of the ticket workspace, ticket creation, phone calls and profiles. Parsing only: no writes here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from atende.accounts.choices import IdentityKind
from atende.accounts.models import User
from atende.accounts.selectors import agent_list, customer_for_identity, team_list
from atende.tickets.choices import Channel, Level, LinkKind, MessageKind, TicketPriority, TicketStatus, TicketType
from atende.tickets.forms import custom_form_field
from atende.tickets.models import Category, Ticket
from atende.tickets.services import IncomingFile
from atende.tickets.states import TRANSITIONS

from .options import ticket_options

KEEP = ""
# A label already ending in one of these gets no suffix: Django's rule (its catalogs, pt-BR included, keep them).
LABEL_ENDINGS = ":?.!"


def _attrs(attrs: dict[str, Any]) -> str:
    """Django's ``attrs.html`` in Python: ``True`` writes the bare name, ``False`` leaves the attribute out."""
    return format_html_join("", " {}{}", ((name, "" if value is True else format_html('="{}"', value))
                                        for name, value in attrs.items() if value is not False and value is not None))


# Option lists written by ``PythonSelect``, by content; forgotten all at once past this many (lists change rarely).
OPTIONS_KEPT = 256
_OPTIONS: dict[tuple, str] = {}


def select_html(name: str, choices: list[tuple[str, Any]], selected: set[str], attrs: dict[str, Any]) -> str:
    """A select without option groups: ``choices`` are (value as a string, label), ``selected`` the values as
    strings (the first option with one of them is marked, as Django marks it)."""
    key = tuple((option_value, str(option_label), hasattr(option_label, "__html__"))
                for option_value, option_label in choices)
    options = _OPTIONS.get(key)
    if options is None:
        if len(_OPTIONS) >= OPTIONS_KEPT:
            _OPTIONS.clear()
        options = _OPTIONS[key] = format_html_join("", '<option value="{}">{}</option>', choices)
    chosen = next((option_value for option_value, _label, _safe in key if option_value in selected), None)
    if chosen is not None:
        tag = format_html('<option value="{}"', chosen)
        options = options.replace(f"{tag}>", f"{tag} selected>", 1)
    return format_html('<select name="{}"{}>{}</select>', name, _attrs(attrs), mark_safe(options))  # noqa: S308


class PythonSelect(forms.Select):
    """The same markup as Django's template-rendered select, built in Python. The template version renders an
    include per option, which made the workspace panel's selects (agents, teams, categories) a large part of the
    ticket page's time."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        choices = [("" if option_value is None else str(option_value), option_label)
                   for option_value, option_label in self.choices]
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return self._render_groups(name, selected, attrs)
        # The options of a list without groups are written once for each content (values and labels in the
        # reader's language: an agent renamed or added is a new content), then reused with the first matching
        # value marked selected, as Django marks it.
        # (A label marked safe is written as it is: whether it is is part of the content.)
        return select_html(name, choices, selected, self.build_attrs(self.attrs, attrs))

    def _render_groups(self, name, selected, attrs) -> str:
        # ChoiceWidget.optgroups and create_option, without a dict per option: the first matching value is
        # selected; a choice whose label is a list is an option group.
        found = False
        parts = [format_html('<select name="{}"{}>', name, _attrs(self.build_attrs(self.attrs, attrs)))]
        for group_value, group_label in self.choices:
            grouped = isinstance(group_label, list | tuple)
            if grouped:
                parts.append(format_html('<optgroup label="{}">', group_value))
            for option_value, option_label in group_label if grouped else [(group_value, group_label)]:
                option_value = "" if option_value is None else str(option_value)
                chosen = not found and option_value in selected
                found = found or chosen
                parts.append(format_html('<option value="{}"{}>{}</option>', option_value,
                                         mark_safe(" selected") if chosen else "", option_label))  # noqa: S308
            if grouped:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html


class PythonInputMixin:
    """Django's ``input.html`` in Python (same markup): a template render per text box was most of the time of the
    panel's plain fields."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = widget["value"]
        return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"],
                           format_html(' value="{}"', str(shown)) if shown is not None else "",
                           _attrs(widget["attrs"]))


class PythonTextarea(forms.Textarea):
    """Django's ``textarea.html`` in Python (same markup)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html('<textarea name="{}"{}>\n{}</textarea>', widget["name"], _attrs(widget["attrs"]),
                           widget["value"] or "")


class PythonRadioSelect(forms.RadioSelect):
    """Django's ``multiple_input.html`` and ``radio_option.html`` in Python (same markup): three template renders
    per option."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        wrapper_id, wrapper_class = widget["attrs"].get("id"), widget["attrs"].get("class")
        parts = [format_html("<div{}{}>", format_html(' id="{}"', wrapper_id) if wrapper_id else "",
                             format_html(' class="{}"', wrapper_class) if wrapper_class else "")]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(format_html("<div><label>{}</label>", group))
            for option in options:
                shown = option["value"]
                tag = format_html('<input type="{}" name="{}"{}{}>', option["type"], option["name"],
                                  format_html(' value="{}"', str(shown)) if shown is not None else "",
                                  _attrs(option["attrs"]))
                if option["wrap_label"]:
                    option_id = option["attrs"].get("id")
                    tag = format_html("<label{}>{}\n {}</label>",
                                      format_html(' for="{}"', option_id) if option_id else "", tag, option["label"])
                parts.append(format_html("<div>{}</div>", tag))
            if group:
                parts.append("</div>")
        parts.append("</div>")
        return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html


PYTHON_WIDGETS: dict[type, type] = {forms.Select: PythonSelect, forms.Textarea: PythonTextarea,
                                    forms.RadioSelect: PythonRadioSelect}
for _input in (forms.TextInput, forms.EmailInput, forms.NumberInput, forms.HiddenInput, forms.URLInput):
    PYTHON_WIDGETS[_input] = type(f"Python{_input.__name__}", (PythonInputMixin, _input), {})


class PythonBoundField(forms.BoundField):
    """Django's ``field.html`` and ``label.html`` in Python (same markup): a field group rendered the label, the
    error list and the field through four templates even when there was no error to show."""

    def as_field_group(self):
        if self.template_name != "django/forms/field.html" or hasattr(self.form, "required_css_class") \
                or self.form.template_name_label != "django/forms/label.html":
            return super().as_field_group()
        fieldset = self.use_fieldset
        parts = []
        if fieldset:
            described = self.aria_describedby
            parts.append(format_html("<fieldset{}>", format_html(' aria-describedby="{}"', described)
                                     if described else ""))
        if self.label:
            parts.append(self._label_html("legend" if fieldset else "label"))
        if self.help_text:
            parts.append(format_html('<div class="helptext"{}>{}</div>',
                                     format_html(' id="{}_helptext"', self.auto_id) if self.auto_id else "",
                                     mark_safe(self.help_text)))  # noqa: S308 - ``|safe`` in Django's template
        if self.errors:
            parts.append(str(self.errors))
        parts.append(str(self))
        if fieldset:
            parts.append("</fieldset>")
        return mark_safe("\n".join(parts))  # noqa: S308 - every part above is escaped

    def _label_html(self, tag: str) -> str:
        contents = self.label
        suffix = self.field.label_suffix if self.field.label_suffix is not None else self.form.label_suffix
        if suffix and contents and contents[-1] not in LABEL_ENDINGS:
            contents = format_html("{}{}", contents, suffix)
        widget = self.field.widget
        id_ = widget.attrs.get("id") or self.auto_id
        if not id_:
            return conditional_escape(contents)
        for_id = widget.id_for_label(id_)
        return format_html("<{}{}>{}</{}>", tag, format_html(' for="{}"', for_id) if for_id else "", contents, tag)


class WorkspaceForm(forms.Form):
    """No trailing colons on labels, and per-form id prefixes: several forms share one page."""

    id_prefix = "f"
    bound_field_class = PythonBoundField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self.use_python_widgets()

    def use_python_widgets(self) -> None:
        # Plain selects (not multiple selects or radios), text boxes and text areas: same markup, no template.
        for field in self.fields.values():
            python = PYTHON_WIDGETS.get(type(field.widget))
            if python is not None:
                field.widget.__class__ = python


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True

    def render(self, name, value, attrs=None, renderer=None):
        # ``clearable_file_input.html`` without a current file (the reply box never has one) is one input tag.
        widget = self.get_context(name, value, attrs)["widget"]
        if widget["is_initial"]:
            return super().render(name, value, attrs, renderer)
        return format_html('<input type="{}" name="{}"{}>', widget["type"], widget["name"], _attrs(widget["attrs"]))


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def incoming_files(uploads) -> list[IncomingFile]:
    """Uploads as the services take them (size limits are checked there and while reading)."""
    return [IncomingFile.from_upload(upload) for upload in uploads or ()]


def user_by_email(email: str) -> User | None:
    return customer_for_identity(kind=IdentityKind.EMAIL, value=email or "")


def parse_tags(raw: str) -> list[str]:
    return [t for t in (part.strip() for part in (raw or "").replace(";", ",").split(",")) if t]


def status_choices(current: str) -> list[tuple[str, str]]:
    allowed = TRANSITIONS[TicketStatus(current)]
    return [(s.value, s.label) for s in TicketStatus if s == current or s in allowed]


class ReplyForm(WorkspaceForm):
    """A public reply or internal note, with the status the ticket should end up in."""

    id_prefix = "reply"


    kind = forms.ChoiceField(label=_("Type"), choices=[(MessageKind.REPLY, _("Public reply")),
                                                       (MessageKind.NOTE, _("Internal note"))],
                             widget=forms.RadioSelect, initial=MessageKind.REPLY)
    body = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label=_("Attachments"))
    set_status = forms.ChoiceField(label=_("Then set status to"), required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    force = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, ticket: Ticket, can_reply: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["set_status"].choices = [(KEEP, _("Unchanged (open when new)"))] + [
            (value, label) for value, label in status_choices(ticket.status)
            if value not in (ticket.status, TicketStatus.NEW, TicketStatus.CLOSED)]
        if not can_reply:
            self.fields["kind"].choices = [(MessageKind.NOTE, _("Internal note"))]
            self.fields["kind"].initial = MessageKind.NOTE
            del self.fields["set_status"]
        self.fields["expected_version"].initial = ticket.version

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachments"):
            self.add_error("body", _("Write a message or attach a file."))
        return data


class TicketFieldsForm(WorkspaceForm):
    """The side panel. ``changes()`` lists only what the agent actually changed, as ``ticket_update`` takes it."""

    id_prefix = "panel"


    subject = forms.CharField(label=_("Subject"), max_length=255)
    requester = forms.EmailField(label=_("Requester (email)"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("No team"))
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=None, required=False, empty_label=_("Nobody"))
    status = forms.ChoiceField(label=_("Status"))
    resolution_summary = forms.CharField(label=_("Resolution summary"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 2}))
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Level.choices)
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False, empty_label=_("None"))
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, ticket: Ticket, tag_names: list[str] | None = None, **kwargs):
        """``tag_names``: the ticket's tag names, sorted, when the caller has read them."""
        self.ticket = ticket
        self.options = ticket_options()
        self.custom_field_defs = self.options.custom_fields
        initial = {
            "subject": ticket.subject, "requester": ticket.requester.email, "team": ticket.team_id,
            "assignee": ticket.assignee_id, "status": ticket.status, "resolution_summary": ticket.resolution_summary,
            "priority": ticket.priority if ticket.priority_manual else KEEP, "urgency": ticket.urgency,
            "impact": ticket.impact, "type": ticket.type, "category": ticket.category_id,
            "tags": ", ".join(sorted(t.name for t in ticket.tags.all()) if tag_names is None else tag_names),
            "expected_version": ticket.version,
        }
        for field in self.custom_field_defs:
            value = (ticket.custom_fields or {}).get(field.key)
            initial[f"cf_{field.key}"] = "" if value is None else value
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["team"].queryset = team_list()
        self.fields["assignee"].queryset = agent_list()
        self.fields["category"].queryset = Category.objects.filter(is_active=True).select_related("parent")
        self.fields["status"].choices = status_choices(ticket.status)
        current_auto = TicketPriority(ticket.priority).label if not ticket.priority_manual else None
        auto_label = _("Automatic (%(current)s)") % {"current": current_auto} if current_auto else _("Automatic")
        self.fields["priority"].choices = [(KEEP, auto_label), *TicketPriority.choices]
        for field in self.custom_field_defs:
            self.fields[f"cf_{field.key}"] = custom_form_field(field)
        self.use_python_widgets()
        self.use_plain_choices()

    def use_plain_choices(self) -> None:
        """The team, assignee and category options shown, as plain values with the labels the models' ``__str__``
        give, kept per process until a service changes one of them (``console/options.py``). Validation still goes
        through each field's queryset."""
        team, assignee, category = self.fields["team"], self.fields["assignee"], self.fields["category"]
        team.widget.choices = [("", team.empty_label), *self.options.teams]
        assignee.widget.choices = [("", assignee.empty_label), *self.options.agents]
        category.widget.choices = [("", category.empty_label), *self.options.categories]

    @property
    def custom_bound_fields(self):
        return [self[f"cf_{field.key}"] for field in self.custom_field_defs]

    def clean_requester(self):
        email = self.cleaned_data["requester"]
        if email.lower() == self.ticket.requester.email.lower():
            return self.ticket.requester
        user = user_by_email(email)
        if user is None:
            raise forms.ValidationError(_("No contact with this address. Create the ticket for a new contact instead."))
        return user

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        for name in ("subject", "team", "assignee", "urgency", "impact", "type", "category"):
            if name in self.changed_data:
                changes[name] = data[name]
        if "requester" in self.changed_data and data["requester"].pk != self.ticket.requester_id:
            changes["requester"] = data["requester"]
        if "priority" in self.changed_data:
            changes["priority"] = data["priority"] or None
        if "tags" in self.changed_data:
            changes["tags"] = parse_tags(data["tags"])
        custom = {f.key: data.get(f"cf_{f.key}") for f in self.custom_field_defs
                  if f"cf_{f.key}" in self.changed_data}
        if custom:
            changes["custom_fields"] = custom
        if "status" in self.changed_data and data["status"] != self.ticket.status:
            changes["status"] = data["status"]
            if data.get("resolution_summary"):
                changes["resolution_summary"] = data["resolution_summary"]
        return changes


class FollowerAddForm(WorkspaceForm):
    id_prefix = "follower"
    email = forms.EmailField(label=_("Add a follower (email)"))

    def clean_email(self):
        user = user_by_email(self.cleaned_data["email"])
        if user is None:
            raise forms.ValidationError(_("No user with this address."))
        return user


class LinkForm(WorkspaceForm):
    id_prefix = "link"
    number = forms.IntegerField(label=_("Ticket number"), min_value=1)
    kind = forms.ChoiceField(label=_("Link"), choices=LinkKind.choices)
    direction = forms.ChoiceField(choices=[("out", "out"), ("in", "in")], initial="out", required=False,
                                  widget=forms.HiddenInput)


class MergeForm(WorkspaceForm):
    id_prefix = "merge"
    number = forms.IntegerField(label=_("Merge this ticket into ticket number"), min_value=1)


class ContactFields(WorkspaceForm):
    """A contact picked by email: an existing one, or a new customer created with the name given."""

    id_prefix = "contact"


    requester_email = forms.EmailField(label=_("Customer email"))
    requester_name = forms.CharField(label=_("Customer name (for a new contact)"), max_length=200, required=False)


class TicketNewForm(ContactFields):
    id_prefix = "new"
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    first_message_by_agent = forms.BooleanField(
        label=_("The description is my message to the customer (outbound)"), required=False,
        help_text=_("Leave unticked when you are writing down what the customer asked."))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False, empty_label=_("None"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("No team"))
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=None, required=False, empty_label=_("Nobody"))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Level.choices, initial=Level.MEDIUM)
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices, initial=Level.MEDIUM)
    priority = forms.ChoiceField(label=_("Priority"), required=False,
                                 choices=[(KEEP, _("Automatic")), *TicketPriority.choices])
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = team_list()
        self.fields["assignee"].queryset = agent_list()
        self.fields["category"].queryset = Category.objects.filter(is_active=True).select_related("parent")


class PhoneCallForm(ContactFields):
    id_prefix = "call"
    ticket_number = forms.IntegerField(
        label=_("Existing ticket number"), required=False, min_value=1,
        help_text=_("Leave empty to open a new ticket for this call."))
    direction = forms.ChoiceField(label=_("Direction"), choices=[("inbound", _("Inbound")),
                                                                 ("outbound", _("Outbound"))])
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=0, initial=0)
    duration_seconds = forms.IntegerField(label=_("and seconds"), min_value=0, max_value=59, initial=0,
                                          required=False)
    subject = forms.CharField(label=_("Subject (new ticket)"), max_length=255, required=False)
    notes = forms.CharField(label=_("Call notes"), widget=forms.Textarea(attrs={"rows": 6}))
    type = forms.ChoiceField(label=_("Type (new ticket)"), choices=TicketType.choices)
    category = forms.ModelChoiceField(label=_("Category (new ticket)"), queryset=None, required=False,
                                      empty_label=_("None"))
    team = forms.ModelChoiceField(label=_("Team (new ticket)"), queryset=None, required=False,
                                  empty_label=_("No team"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = team_list()
        self.fields["category"].queryset = Category.objects.filter(is_active=True).select_related("parent")

    @property
    def total_seconds(self) -> int:
        return self.cleaned_data["duration_minutes"] * 60 + (self.cleaned_data.get("duration_seconds") or 0)


class CustomerNotesForm(WorkspaceForm):
    id_prefix = "notes"
    notes = forms.CharField(label=_("Notes about this customer"), required=False,
                            widget=forms.Textarea(attrs={"rows": 4}))


class IdentityAddForm(WorkspaceForm):
    id_prefix = "identity"
    kind = forms.ChoiceField(label=_("Kind"), choices=IdentityKind.choices)
    value = forms.CharField(label=_("Address, number or handle"), max_length=254)


class CustomerMergeForm(WorkspaceForm):
    """Which customer to merge into the one on the page: their address, phone or number (#id)."""

    id_prefix = "merge"
    other = forms.CharField(label=_("The other customer's email, phone or #id"), max_length=254)

"""Forms of the console's list pages: the saved-view editor and the bulk-action bar."""

from __future__ import annotations

import datetime
from html import escape as _e  # Django's ``escape`` without its lazy-string wrapper (the same five characters)

from django import forms
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Organization, Team
from atende.accounts.selectors import agent_list, team_list
from atende.console.models import DEFAULT_COLUMNS, ListColumn, ListSort, SavedView
from atende.console.options import ticket_options
from atende.console.services import BulkAction
from atende.core.exceptions import ValidationError as DomainValidationError
from atende.tickets.choices import Channel, TicketPriority, TicketStatus, TicketType
from atende.tickets.filters import ME, MY_TEAMS, NONE, TicketFilters
from atende.tickets.models import Category


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").replace("\n", ",").split(",") if v.strip()]


class SavedViewForm(forms.Form):
    """Every ticket attribute a view can filter on, plus its columns and sort."""

    name = forms.CharField(label=_("Name"), max_length=100)
    share_with = forms.ModelChoiceField(label=_("Share with team"), queryset=Team.objects.none(), required=False,
                                        empty_label=_("Nobody (personal view)"))
    status = forms.MultipleChoiceField(label=_("Status"), choices=TicketStatus.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple)
    team = forms.MultipleChoiceField(label=_("Team"), required=False)
    assignee = forms.MultipleChoiceField(label=_("Assignee"), required=False)
    requester = forms.CharField(label=_("Requester emails"), required=False,
                                help_text=_("Comma-separated, e.g. ana@example.com"))
    organization = forms.ModelMultipleChoiceField(label=_("Organisation"), queryset=Organization.objects.none(),
                                                  required=False)
    category = forms.ModelMultipleChoiceField(label=_("Category"), queryset=Category.objects.none(), required=False)
    tags = forms.CharField(label=_("Has all these tags"), required=False, help_text=_("Comma-separated"))
    exclude_tags = forms.CharField(label=_("Has none of these tags"), required=False)
    priority = forms.MultipleChoiceField(label=_("Priority"), choices=TicketPriority.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    type = forms.MultipleChoiceField(label=_("Type"), choices=TicketType.choices, required=False,
                                     widget=forms.CheckboxSelectMultiple)
    channel = forms.MultipleChoiceField(label=_("Channel"), choices=Channel.choices, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    custom_fields = forms.CharField(label=_("Custom fields"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("One per line: key=value"))
    created_from = forms.DateField(label=_("Created on or after"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("Created on or before"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    updated_from = forms.DateField(label=_("Updated on or after"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    updated_to = forms.DateField(label=_("Updated on or before"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    updated_within_days = forms.IntegerField(label=_("Updated in the last N days"), required=False, min_value=0)
    columns = forms.MultipleChoiceField(label=_("Columns"), choices=ListColumn.choices, required=False,
                                        initial=list(DEFAULT_COLUMNS), widget=forms.CheckboxSelectMultiple)
    sort = forms.ChoiceField(label=_("Sort by"), choices=ListSort.choices, initial=ListSort.UPDATED_DESC)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        teams = team_list() if user.is_admin else team_list().filter(members=user)
        self.fields["share_with"].queryset = teams
        self.fields["team"].choices = [(MY_TEAMS, _("My teams")), (NONE, _("No team"))] + [
            (str(t.pk), t.name) for t in team_list()]
        self.fields["assignee"].choices = [(ME, _("Me")), (NONE, _("Unassigned"))] + [
            (str(a.pk), a.display_name) for a in agent_list()]
        self.fields["organization"].queryset = Organization.objects.order_by("name")
        self.fields["category"].queryset = Category.objects.select_related("parent").filter(is_active=True)

    @classmethod
    def initial_for(cls, *, view: SavedView | None = None, filters: TicketFilters | None = None) -> dict:
        f = TicketFilters.from_dict(view.filters) if view is not None else (filters or TicketFilters())
        data = {
            "status": f.status, "team": [str(v) for v in f.team], "assignee": [str(v) for v in f.assignee],
            "requester": ", ".join(str(v) for v in f.requester if isinstance(v, str)),
            "organization": [v for v in f.organization if isinstance(v, int)], "category": f.category,
            "tags": ", ".join(f.tags), "exclude_tags": ", ".join(f.exclude_tags), "priority": f.priority,
            "type": f.type, "channel": f.channel,
            "custom_fields": "\n".join(f"{k}={v}" for k, v in f.custom_fields.items()),
            "created_from": f.created_from.date() if f.created_from else None,
            "updated_from": f.updated_from.date() if f.updated_from else None,
            # upper bounds are stored exclusive (the next midnight); the form shows the last day included
            "created_to": (f.created_to - datetime.timedelta(days=1)).date() if f.created_to else None,
            "updated_to": (f.updated_to - datetime.timedelta(days=1)).date() if f.updated_to else None,
            "updated_within_days": f.updated_within_days,
        }
        if view is not None:
            data.update(name=view.name, share_with=view.team_id, columns=view.columns or list(DEFAULT_COLUMNS),
                        sort=view.sort)
        return data

    def clean_custom_fields(self) -> dict[str, str]:
        out = {}
        for line in (self.cleaned_data.get("custom_fields") or "").splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(_("Write each custom field as key=value."))
            out[key.strip()] = value.strip()
        return out

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.filters = TicketFilters.from_dict({
                "status": data["status"], "team": data["team"], "assignee": data["assignee"],
                "requester": _split(data["requester"]),
                "organization": [o.pk for o in data["organization"]], "category": [c.pk for c in data["category"]],
                "tags": _split(data["tags"]), "exclude_tags": _split(data["exclude_tags"]),
                "priority": data["priority"], "type": data["type"], "channel": data["channel"],
                "custom_fields": data["custom_fields"], "created_from": data["created_from"],
                "created_to": data["created_to"], "updated_from": data["updated_from"],
                "updated_to": data["updated_to"], "updated_within_days": data["updated_within_days"],
            })
        except DomainValidationError as exc:
            raise forms.ValidationError(exc.message)
        return data


BULK_STATUS_CHOICES = [("", "—"), *TicketStatus.choices]
BULK_PRIORITY_CHOICES = [("", "—"), *TicketPriority.choices]


def bulk_assignee_choices() -> list[tuple[str, str]]:
    """The bulk bar's agents, read as plain values (no model instances)."""
    return [("", "—"), (ME, _("Me")), (NONE, _("Nobody (unassign)"))] + [
        (str(pk), name or email) for pk, name, email in agent_list().values_list("pk", "name", "email")]


def bulk_team_choices() -> list[tuple[str, str]]:
    return [("", "—"), (NONE, _("No team"))] + [(str(pk), name) for pk, name in team_list().values_list("pk", "name")]


def _options(choices) -> SafeString:
    return mark_safe("".join(f'<option value="{_e(str(value))}">{_e(str(label))}</option>'  # noqa: S308
                             for value, label in choices))


class BulkBar:
    """What a list page shows of the bulk-action form. The form itself is built only when the bar is submitted:
    building it (its fields copied, its choices set) and writing its options with ``format_html`` per option was
    about a third of a list page's render. The fixed lists (actions, statuses, priorities) are written by the
    template once per process and language; the agents and teams are read and written here."""

    action_choices = BulkAction.choices
    status_choices = BULK_STATUS_CHOICES
    priority_choices = BULK_PRIORITY_CHOICES

    def __init__(self):
        # The agents and teams as the process keeps them for the ticket page (read again after a change).
        options = ticket_options()
        self.assignee_options = _options([("", "—"), (ME, _("Me")), (NONE, _("Nobody (unassign)")),
                                          *((str(pk), label) for pk, label in options.bulk_agents)])
        self.team_options = _options([("", "—"), (NONE, _("No team")),
                                      *((str(pk), name) for pk, name in options.teams)])


class BulkActionForm(forms.Form):
    tickets = forms.TypedMultipleChoiceField(coerce=int, required=True, label=_("Selected tickets"),
                                             error_messages={"required": _("Select at least one ticket.")})
    action = forms.ChoiceField(label=_("Action"), choices=BulkAction.choices)
    assignee = forms.ChoiceField(label=_("Agent"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=BULK_STATUS_CHOICES)
    priority = forms.ChoiceField(label=_("Priority"), required=False, choices=BULK_PRIORITY_CHOICES)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=500)
    merge_target = forms.IntegerField(label=_("Merge into ticket number"), required=False, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Any integer is accepted here; access to each ticket is checked one by one by the service.
        self.fields["tickets"].valid_value = lambda value: str(value).isdigit()
        self.fields["assignee"].choices = bulk_assignee_choices()
        self.fields["team"].choices = bulk_team_choices()

    def clean(self):
        data = super().clean()
        action = data.get("action")
        data["assignee_user"] = None
        data["team_obj"] = None
        if action == BulkAction.ASSIGN:
            value = data.get("assignee")
            if not value:
                self.add_error("assignee", _("Choose an agent."))
            elif value == ME:
                data["assignee_user"] = self.user
            elif value != NONE:
                data["assignee_user"] = agent_list().filter(pk=int(value)).first()
        if action == BulkAction.TEAM:
            value = data.get("team")
            if not value:
                self.add_error("team", _("Choose a team."))
            elif value != NONE:
                data["team_obj"] = team_list().filter(pk=int(value)).first()
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"ticket_ids": d["tickets"], "action": d["action"], "assignee": d["assignee_user"],
                "status": d.get("status") or "", "priority": d.get("priority") or "", "team": d["team_obj"],
                "tags": _split(d.get("tags") or ""), "merge_target_number": d.get("merge_target")}

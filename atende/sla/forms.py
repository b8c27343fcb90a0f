from django import forms
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Team
from atende.rules.forms import JSONField
from atende.sla.models import BusinessCalendar


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    conditions = JSONField(label=_("Applies to tickets matching"), empty={}, builder="conditions", help_text=_(
        '{"all": [{"field": "priority", "op": "in", "value": ["high", "urgent"]}]} — empty: every ticket.'))
    first_reply_minutes = forms.IntegerField(label=_("First reply within (minutes)"), required=False, min_value=1)
    next_reply_minutes = forms.IntegerField(label=_("Next reply within (minutes)"), required=False, min_value=1)
    resolution_minutes = forms.IntegerField(label=_("Resolve within (minutes)"), required=False, min_value=1)
    business_hours = forms.BooleanField(label=_("Count business hours only"), required=False, initial=True)
    calendar = forms.ModelChoiceField(label=_("Calendar"), required=False, queryset=BusinessCalendar.objects.all(),
                                      empty_label=_("The ticket team's calendar (else the default)"))
    warn_before_minutes = forms.IntegerField(label=_("Warn this many minutes before a breach"), required=False,
                                             min_value=0, initial=30)
    warning_actions = JSONField(label=_("Actions on warning"), empty=[], builder="actions", help_text=_(
        '[{"type": "send_email", "to": "assignee", "subject": "…", "body": "…"}]'))
    breach_actions = JSONField(label=_("Actions on breach"), empty=[], builder="actions", help_text=_(
        '[{"type": "raise_priority"}, {"type": "assign_auto"}, {"type": "send_email", "to": "team", …}]'))


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(label=_("Time zone"), initial="UTC", help_text=_("e.g. America/Sao_Paulo"))
    is_default = forms.BooleanField(label=_("Default calendar"), required=False)
    hours = forms.CharField(label=_("Opening hours"), widget=forms.Textarea(attrs={"rows": 4, "data-hours-grid": ""}),
                            initial="mon-fri 09:00-18:00",
                            help_text=_("One line per rule: “mon-fri 09:00-18:00”, “sat 09:00-13:00”, "
                                        "“mon 09:00-12:00, 13:00-18:00”. Use 24:00 for midnight."))
    holidays = forms.CharField(label=_("Holidays"), required=False,
                               widget=forms.Textarea(attrs={"rows": 4, "data-holidays-list": ""}),
                               help_text=_("One per line: “2025-04-18 Good Friday” (once) or "
                                           "“*-12-25 Christmas” (every year)."))
    teams = forms.ModelMultipleChoiceField(label=_("Teams using it"), required=False, queryset=Team.objects.all(),
                                           widget=forms.CheckboxSelectMultiple)

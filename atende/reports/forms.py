import re

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Team
from atende.accounts.selectors import agent_list, team_ids_for_user
from atende.reports.choices import WEEKDAYS, ReportFrequency, ReportPeriod
from atende.reports.selectors import DEFAULT_PERIOD
from atende.tickets.choices import Channel
from atende.tickets.selectors import ticket_visibility_filter

PERIOD_CHOICES = ReportPeriod.choices


class ReportFilterForm(forms.Form):
    """The dashboard's period, team and channel; restricted users may only pick their own teams."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False,
                               initial=DEFAULT_PERIOD)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("All my teams"))
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("All channels")), *Channel.choices],
                                required=False)
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=agent_list(), required=False,
                                   empty_label=_("All agents"),
                                   help_text=_("Tickets assigned to this agent now."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        if ticket_visibility_filter(user) is not None:
            teams = teams.filter(pk__in=team_ids_for_user(user))
        else:
            self.fields["team"].empty_label = _("All teams")
        self.fields["team"].queryset = teams

    def scope_arguments(self) -> dict:
        """Valid choices, or the defaults for anything missing or invalid (a bad link still shows a report)."""
        data = self.cleaned_data if self.is_valid() else {}
        team, agent = data.get("team"), data.get("agent")
        return {"period": data.get("period") or DEFAULT_PERIOD, "team_id": team.pk if team else None,
                "channel": data.get("channel") or None, "assignee_id": agent.pk if agent else None}


class ScheduleForm(forms.Form):
    """A scheduled report (``services.report_schedule_save`` validates and computes the next sending)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    recipients = forms.CharField(label=_("Recipients"), widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("Email addresses, one per line or separated by commas."))
    frequency = forms.ChoiceField(label=_("Send"), choices=ReportFrequency.choices, initial=ReportFrequency.WEEKLY)
    weekday = forms.TypedChoiceField(label=_("On (weekly)"), choices=WEEKDAYS, coerce=int, initial=0)
    hour = forms.TypedChoiceField(label=_("At"), choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int,
                                  initial=7, help_text=_("In your time zone."))
    period = forms.ChoiceField(label=_("Covering"), choices=PERIOD_CHOICES, initial="7d")
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.order_by("name"), required=False,
                                  empty_label=_("All teams"))
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("All channels")), *Channel.choices],
                                required=False)
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=agent_list(), required=False,
                                   empty_label=_("All agents"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_recipients(self) -> list[str]:
        return [part.strip() for part in re.split(r"[\s,;]+", self.cleaned_data["recipients"]) if part.strip()]

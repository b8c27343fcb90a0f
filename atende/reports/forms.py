from django import forms
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Team
from atende.accounts.selectors import team_ids_for_user
from atende.reports.selectors import DEFAULT_PERIOD
from atende.tickets.choices import Channel
from atende.tickets.selectors import ticket_visibility_filter

PERIOD_CHOICES = [
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("365d", _("Last year")),
]


class ReportFilterForm(forms.Form):
    """The dashboard's period, team and channel; restricted users may only pick their own teams."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False,
                               initial=DEFAULT_PERIOD)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("All my teams"))
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("All channels")), *Channel.choices],
                                required=False)

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
        team = data.get("team")
        return {"period": data.get("period") or DEFAULT_PERIOD, "team_id": team.pk if team else None,
                "channel": data.get("channel") or None}

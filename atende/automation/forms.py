"""Settings forms. They only parse input; the services validate rule definitions and save them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.automation.choices import AssignmentStrategy, MessageVisibility, TimeAnchor, TriggerEvent
from atende.rules.forms import JSONField


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    conditions = JSONField(label=_("Conditions"), empty={}, builder="conditions", help_text=_(
        '{"all": [{"field": "priority", "op": "is", "value": "high"}], "any": [...]} — empty matches every ticket.'))
    actions = JSONField(label=_("Actions"), empty=[], builder="actions", help_text=_(
        '[{"type": "add_tags", "value": ["vip"]}, {"type": "set_priority", "value": "urgent"}]'))


class RoutingRuleForm(RuleForm):
    stop = forms.BooleanField(label=_("Stop at this rule when it matches"), required=False, initial=True)


class TriggerForm(RuleForm):
    events = forms.MultipleChoiceField(label=_("Runs on"), choices=TriggerEvent.choices,
                                       widget=forms.CheckboxSelectMultiple)


class TimeRuleForm(RuleForm):
    anchor = forms.ChoiceField(label=_("Hours since"), choices=TimeAnchor.choices)
    hours = forms.DecimalField(label=_("Hours"), min_value=0, max_digits=8, decimal_places=2)
    business_hours = forms.BooleanField(label=_("Count business hours only (team calendar)"), required=False)


class MacroForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    shared = forms.BooleanField(label=_("Shared with every agent"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    reply_text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text=_("Placeholders such as {{requester.first_name}}, {{ticket.number}}, "
                                             "{{agent.name}}."))
    reply_visibility = forms.ChoiceField(label=_("Send the text as"), choices=MessageVisibility.choices)
    actions = JSONField(label=_("Actions"), empty=[], builder="actions", help_text=_('[{"type": "set_status", "value": "pending"}]'))


class CannedReplyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), required=False,
                                 choices=[("", _("Any")), ("en", "English"), ("pt-br", "Português (Brasil)")])
    shared = forms.BooleanField(label=_("Shared with every agent"), required=False, initial=True)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_("Placeholders such as {{requester.first_name}}, {{ticket.number}}, "
                                       "{{agent.name}}."))


class TeamAssignmentForm(forms.Form):
    strategy = forms.ChoiceField(label=_("Assignment"), choices=AssignmentStrategy.choices)
    reassign_when_offline = forms.BooleanField(label=_("Reassign when the agent goes offline"), required=False)


class PreviewForm(forms.Form):
    ticket = forms.IntegerField(label=_("Ticket number"), min_value=1)

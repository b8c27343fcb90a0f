from django import forms
from django.utils.translation import gettext_lazy as _

from atende.integrations.choices import WebhookEvent


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(label=_("Events"), choices=WebhookEvent.choices,
                                            widget=forms.CheckboxSelectMultiple)

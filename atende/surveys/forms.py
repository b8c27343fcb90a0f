from django import forms
from django.utils.translation import gettext_lazy as _

from atende.surveys.choices import Rating
from atende.surveys.services import MAX_COMMENT


class SurveyForm(forms.Form):
    rating = forms.ChoiceField(label=_("How would you rate the support you received?"), choices=Rating.choices,
                               widget=forms.RadioSelect, error_messages={"required": _("Choose good or bad.")})
    comment = forms.CharField(label=_("Anything you would like to add? (optional)"), required=False,
                              max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3}))

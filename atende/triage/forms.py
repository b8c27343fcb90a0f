from django import forms
from django.utils.translation import gettext_lazy as _

from atende.tickets.choices import FieldKind
from atende.tickets.models import CustomField


class FieldSettingForm(forms.Form):
    auto_apply = forms.BooleanField(label=_("Apply automatically"), required=False)
    threshold = forms.FloatField(label=_("when the confidence is at least"), min_value=0.5, max_value=1.0,
                                 widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.5", "max": "1"}))


class PredictableFieldsForm(forms.Form):
    fields = forms.ModelMultipleChoiceField(
        label=_("Dropdown custom fields to predict"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=CustomField.objects.filter(kind=FieldKind.DROPDOWN, is_active=True).order_by("position", "label"))

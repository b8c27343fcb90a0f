import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.accounts.choices import Locale


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    locale = forms.ChoiceField(label=_("Language"), choices=[("", _("Browser default")), *Locale.choices],
                               required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", "UTC")] + [(z, z) for z in sorted(zoneinfo.available_timezones())]

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.api.choices import TokenScope
from atende.api.services import allowed_scopes


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. “CRM sync”."))
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices, initial=TokenScope.READ)
    expires_in_days = forms.IntegerField(label=_("Expires after (days)"), min_value=1, max_value=3650,
                                         required=False, initial=90,
                                         help_text=_("Leave empty for a token that does not expire."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = allowed_scopes(user)
        self.fields["scope"].choices = [(v, label) for v, label in TokenScope.choices if v in allowed]

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Team
from atende.chat.choices import OfflineMode, WidgetLanguage, WidgetPosition
from atende.chat.services.widgets import EDITABLE
from atende.core.exceptions import DomainError

colour_input = forms.TextInput(attrs={"type": "color"})


class WidgetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    allowed_origins = forms.CharField(
        label=_("Allowed origins"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. https://www.example.com. Pages elsewhere cannot use the widget."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    team = forms.ModelChoiceField(label=_("Team routed to"), queryset=Team.objects.order_by("name"), required=False,
                                  help_text=_("Empty: any online agent."))
    primary_color = forms.CharField(label=_("Colour"), max_length=7, initial="#1f6feb", widget=colour_input)
    text_color = forms.CharField(label=_("Text colour on the colour"), max_length=7, initial="#ffffff",
                                 widget=colour_input)
    position = forms.ChoiceField(label=_("Position"), choices=WidgetPosition.choices)
    greeting = forms.CharField(label=_("Greeting"), max_length=300, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=WidgetLanguage.choices)
    ask_name = forms.BooleanField(label=_("Pre-chat form asks the name"), required=False, initial=True)
    ask_email = forms.BooleanField(label=_("Pre-chat form asks the email"), required=False, initial=True)
    email_required = forms.BooleanField(label=_("Email is required"), required=False)
    bot_enabled = forms.BooleanField(label=_("The bot answers first with knowledge-base articles"), required=False,
                                     initial=True)
    offline_mode = forms.ChoiceField(label=_("When nobody is online"), choices=OfflineMode.choices)
    rotate_secret = forms.BooleanField(label=_("Issue a new identity secret"), required=False)

    def __init__(self, *args, instance_values=None, **kwargs):
        if instance_values is not None and not args:
            kwargs["initial"] = {name: getattr(instance_values, name) for name in EDITABLE}
        super().__init__(*args, **kwargs)

    def add_domain_error(self, exc: DomainError) -> None:
        details = getattr(exc, "details", None) or {}
        field = next((name for name in details if name in self.fields), None)
        self.add_error(field, str(exc.message if hasattr(exc, "message") else exc))

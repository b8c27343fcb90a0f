from django import forms
from django.utils.translation import gettext_lazy as _

from atende.accounts.choices import Role
from atende.accounts.models import Team, User
from atende.signin.models import SecurityPolicy, SsoProvider


class PasswordSignInForm(forms.Form):
    username = forms.EmailField(label=_("Email"), max_length=254,
                                widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))
    password = forms.CharField(label=_("Password"), strip=False, max_length=4096,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "text", "autofocus": True, "spellcheck": "false"}))


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(label=_("Your password"), strip=False, max_length=4096,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False, max_length=4096,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("New password"), strip=False, max_length=4096,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_again = forms.CharField(label=_("New password again"), strip=False, max_length=4096,
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class PolicyForm(forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = ["require_mfa_for_staff", "sso_required_for_staff", "break_glass_user", "session_lifetime_hours",
                  "session_idle_minutes", "breached_password_check"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["break_glass_user"].queryset = User.objects.filter(role=Role.ADMIN, is_active=True)


class ProviderForm(forms.ModelForm):
    client_secret = forms.CharField(label=_("Client secret"), required=False, max_length=500,
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text=_("Leave empty to keep the stored one. Or env:NAME to read it from "
                                                "the environment variable NAME."))
    default_teams = forms.ModelMultipleChoiceField(label=_("Teams for people it creates"), required=False,
                                                   queryset=Team.objects.order_by("name"),
                                                   widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = SsoProvider
        fields = ["kind", "name", "slug", "is_active", "audience", "issuer", "client_id", "client_secret", "scopes",
                  "idp_entity_id", "idp_sso_url", "idp_certificate", "email_attribute", "create_users",
                  "default_role", "default_teams", "groups_claim", "group_teams", "allowed_domains"]


class MfaResetForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

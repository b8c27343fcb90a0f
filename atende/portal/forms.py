from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import User
from atende.core.exceptions import DomainError
from atende.portal.services import auth_email_enqueue
from atende.tickets.forms import custom_form_field
from atende.tickets.models import TicketForm
from atende.tickets.services import IncomingFile
from atende.tickets.services.attachments import validate_file


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("At least 8 characters, not a common password."))
    password_again = forms.CharField(label=_("Password (again)"), strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email",
                                                                               "autofocus": True}))


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form, its mail queued as a delivery of the outbound engine (``auth_email_enqueue``) instead
    of sent by Django, and open to customers who never set a password (a reset is how they choose one)."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email.strip(), is_active=True)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        path = reverse("accounts:password_reset_confirm", args=[context["uid"], context["token"]])
        auth_email_enqueue(kind="password_reset", user=context["user"], url=f"{settings.SITE_URL}{path}")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several uploads at once, each checked against the size and type limits before anything is stored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else ([data] if data else [])
        files, errors = [], []
        for upload in uploads:
            try:
                incoming = IncomingFile.from_upload(upload)
                validate_file(incoming)
            except DomainError as exc:
                errors.append(exc.message)
            else:
                files.append(incoming)
        if errors:
            raise forms.ValidationError(errors)
        return files


def attachment_help() -> str:
    return _("Up to %(size)s per file.") % {"size": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}


class RequestForm(forms.Form):
    """Subject, description, the chosen ticket form's customer-visible fields, and attachments."""

    subject = forms.CharField(label=_("Subject"), max_length=255,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(label=_("Description"), max_length=50_000,
                                  widget=forms.Textarea(attrs={"rows": 8}),
                                  help_text=_("What happened, what you expected, and any error message."))

    def __init__(self, *args, ticket_form: TicketForm | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_keys: list[str] = []
        if ticket_form is not None:
            rows = ticket_form.form_fields.select_related("field").filter(field__is_active=True,
                                                                          field__customer_visible=True)
            for row in rows.order_by("position", "field__position"):
                name = f"cf_{row.field.key}"
                self.fields[name] = custom_form_field(row.field, required=row.required)
                self.custom_keys.append(row.field.key)
        self.fields["attachments"] = MultipleFileField(label=_("Attachments"), help_text=attachment_help())

    def custom_field_values(self) -> dict:
        values = {}
        for key in self.custom_keys:
            value = self.cleaned_data.get(f"cf_{key}")
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            values[key] = value
        return values

    @property
    def custom_fields(self):
        return [self[f"cf_{key}"] for key in self.custom_keys]


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=50_000, required=False,
                           widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Attachments"))

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachments") and not self.errors:
            raise forms.ValidationError(_("Write a message or attach a file."))
        return data


class TicketFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("Any status")), ("open", _("Open")), ("awaiting", _("Awaiting your reply")),
                      ("solved", _("Solved")), ("closed", _("Closed"))]
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    scope = forms.ChoiceField(choices=[("mine", _("My requests")), ("organization", _("My organisation's requests"))],
                              required=False)


_COLOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f6feb."))


class BrandingForm(forms.Form):
    name = forms.CharField(label=_("Help desk name"), max_length=100)
    logo = forms.ImageField(label=_("Logo"), required=False)
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    primary_color = forms.CharField(label=_("Main colour"), max_length=7, validators=[_COLOR],
                                    widget=forms.TextInput(attrs={"type": "color"}))
    accent_color = forms.CharField(label=_("Accent colour"), max_length=7, validators=[_COLOR],
                                   widget=forms.TextInput(attrs={"type": "color"}))
    support_email = forms.EmailField(label=_("Support email address"), required=False)

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > 1024 * 1024:
            raise forms.ValidationError(_("The logo must be at most 1 MB."))
        return logo

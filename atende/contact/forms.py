"""The public contact form: who is writing (name, email or phone), the request, the admin's ticket-form fields and
attachments (the portal's request form), plus the honeypot and the form token."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.portal.forms import RequestForm


class ContactForm(RequestForm):
    name = forms.CharField(label=_("Your name"), max_length=200,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label=_("Email"), required=False, max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Phone (if you have no email)"), required=False, max_length=40,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    # Honeypot: hidden by CSS and from assistive technology; people leave it empty.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order = ["name", "email", "phone", "subject", "description"]

    def __init__(self, *args, accept_phone: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.accept_phone = accept_phone
        if not accept_phone:
            del self.fields["phone"]
            self.fields["email"].required = True
        self.order_fields(self.field_order)

    def clean(self):
        data = super().clean()
        if not data.get("email") and not (data.get("phone") or "").strip() and "email" not in self.errors:
            self.add_error("email", _("Give an email address or a phone number so that we can answer you.")
                           if self.accept_phone else _("This field is required."))
        return data

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get("website") or "").strip())

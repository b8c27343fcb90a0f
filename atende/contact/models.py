from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.contact.choices import ContactFormMode
from atende.core.csp import clean_origin


class ContactFormSettings(models.Model):
    """The public contact form's settings (one row, edited in the Django admin)."""

    mode = models.CharField(_("who may use the form"), max_length=10, choices=ContactFormMode.choices,
                            default=ContactFormMode.OPEN)
    ticket_form = models.ForeignKey("tickets.TicketForm", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("ticket form"),
                                    help_text=_("Its customer-visible fields are asked on the contact form."))
    allowed_origins = models.TextField(
        _("sites that may embed the form"), blank=True,
        help_text=_("One origin per line, e.g. https://www.example.com. Other sites cannot show the form."))
    accept_phone = models.BooleanField(_("accept a phone number instead of an email address"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact form settings")
        verbose_name_plural = _("contact form settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "ContactFormSettings":
        return cls.objects.order_by("pk").first() or cls()

    def origins(self) -> list[str]:
        return [o for o in (clean_origin(line) for line in self.allowed_origins.splitlines()) if o]

    def clean(self):
        from django.core.exceptions import ValidationError

        bad = [line.strip() for line in self.allowed_origins.splitlines() if line.strip() and not clean_origin(line)]
        if bad:
            raise ValidationError({"allowed_origins": _("Not an origin (scheme://host[:port]): %(bad)s")
                                   % {"bad": ", ".join(bad[:5])}})

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.audit.choices import AuditAction
from atende.audit.selectors import AuditFilter


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any")), *AuditAction.choices])
    person = forms.CharField(label=_("Person (email)"), required=False, max_length=254)
    target_type = forms.CharField(label=_("Object type"), required=False, max_length=60)
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data if self.is_valid() else {}

        def day_start(day: datetime.date | None) -> datetime.datetime | None:
            if day is None:
                return None
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

        until = data.get("until")
        return AuditFilter(action=data.get("action", ""), person=(data.get("person") or "").strip(),
                           target_type=(data.get("target_type") or "").strip(), ip=data.get("ip") or "",
                           since=day_start(data.get("since")),
                           until=day_start(until + datetime.timedelta(days=1)) if until else None)

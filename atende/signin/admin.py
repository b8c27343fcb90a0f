"""Second factors are removed only through the audited services (Profile › Security, or an administrator's
reset in Settings › Sign-in security), so django-otp's own admin pages are not offered."""

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

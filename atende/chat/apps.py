from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "atende.chat"
    label = "chat"
    verbose_name = _("Live chat")
    default_auto_field = "django.db.models.BigAutoField"

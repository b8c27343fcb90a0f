from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "atende.messaging"
    verbose_name = "Messaging apps"
    default_auto_field = "django.db.models.BigAutoField"

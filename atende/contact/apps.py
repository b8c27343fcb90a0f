from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "atende.contact"
    verbose_name = "Contact form"
    default_auto_field = "django.db.models.BigAutoField"

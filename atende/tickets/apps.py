from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "atende.tickets"
    label = "tickets"

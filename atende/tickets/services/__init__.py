"""Every write on tickets. Import services from here: ``from atende.tickets.services import ticket_create``."""

from atende.tickets.services._common import record_event
from atende.tickets.services.attachments import IncomingFile
from atende.tickets.services.batch import TicketChanges
from atende.tickets.services.conversation import message_add_note, message_add_reply, phone_call_log
from atende.tickets.services.create import ticket_create
from atende.tickets.services.lifecycle import InvalidTransition, ticket_transition, tickets_autoclose
from atende.tickets.services.relations import ticket_link, ticket_mark_spam, ticket_merge, ticket_unlink
from atende.tickets.services.settings import ticket_settings_update
from atende.tickets.services.update import (
    ticket_assign,
    ticket_change_requester,
    ticket_set_followers,
    ticket_set_sla,
    ticket_set_tags,
    ticket_update,
    tickets_set_sla,
)

__all__ = [
    "IncomingFile",
    "InvalidTransition",
    "TicketChanges",
    "message_add_note",
    "message_add_reply",
    "phone_call_log",
    "record_event",
    "ticket_assign",
    "ticket_change_requester",
    "ticket_create",
    "ticket_link",
    "ticket_mark_spam",
    "ticket_merge",
    "ticket_set_followers",
    "ticket_set_sla",
    "ticket_set_tags",
    "ticket_settings_update",
    "ticket_transition",
    "ticket_unlink",
    "ticket_update",
    "tickets_autoclose",
    "tickets_set_sla",
]

from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    SMTP = "smtp", _("SMTP/LMTP listener")
    IMPORT = "import", _("File import")


class InboundStatus(models.TextChoices):
    PENDING = "pending", _("Stored, not processed yet")
    TICKET_CREATED = "ticket_created", _("Ticket created")
    REPLY_ADDED = "reply_added", _("Added to a ticket")
    IGNORED = "ignored", _("Ignored (auto-reply, bounce, blocked)")
    DUPLICATE = "duplicate", _("Duplicate")
    QUARANTINED = "quarantined", _("Quarantined")
    DISCARDED = "discarded", _("Discarded by an admin")


DONE_STATUSES = frozenset({
    InboundStatus.TICKET_CREATED, InboundStatus.REPLY_ADDED, InboundStatus.IGNORED, InboundStatus.DUPLICATE,
    InboundStatus.DISCARDED,
})


class TlsMode(models.TextChoices):
    SSL = "ssl", _("TLS from the start (IMAPS, port 993)")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (loopback or trusted network only)")


class AuthMethod(models.TextChoices):
    PASSWORD = "password", _("User and password")
    XOAUTH2 = "xoauth2", _("OAuth2 (XOAUTH2 access token)")


class AfterStore(models.TextChoices):
    MARK_SEEN = "seen", _("Mark as seen")
    MOVE = "move", _("Move to a folder")
    DELETE = "delete", _("Delete")


class NonParticipantPolicy(models.TextChoices):
    ADD_CC = "add_cc", _("Add the sender as CC and thread the reply (flagged on the ticket)")
    NEW_TICKET = "new_ticket", _("Strict: open a new ticket for them")


class SenderRuleKind(models.TextChoices):
    BLOCK = "block", _("Block (ignore their mail)")
    ALLOW = "allow", _("Allow (never rate-limited or blocked)")


class NotificationKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement of a new request (to the customer)")
    AGENT_REPLY = "agent_reply", _("Agent reply (to the customer and CCs)")
    REQUEST_SOLVED = "request_solved", _("Request solved (to the customer)")
    TEAM_NEW_TICKET = "team_new_ticket", _("New ticket in my team (to agents)")
    TICKET_ASSIGNED = "ticket_assigned", _("Ticket assigned to me (to the agent)")
    CUSTOMER_REPLIED = "customer_replied", _("Customer replied (to the agent)")
    NOTE_MENTION = "note_mention", _("Mention in an internal note (to the agent)")

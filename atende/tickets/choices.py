from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class StatusCategory(models.TextChoices):
    OPEN = "open", _("Open")
    PAUSED = "paused", _("Paused")
    RESOLVED = "resolved", _("Resolved")


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    TASK = "task", _("Task")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    MESSAGING = "messaging", _("Messaging")


class Level(models.TextChoices):
    """Urgency and impact."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {TicketPriority.LOW: 0, TicketPriority.NORMAL: 1, TicketPriority.HIGH: 2, TicketPriority.URGENT: 3}


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System message")


class ActorKind(models.TextChoices):
    AGENT = "agent", _("Agent")
    CUSTOMER = "customer", _("Customer")
    SYSTEM = "system", _("System")
    AUTOMATION = "automation", _("Automation")


class TicketEventType(models.TextChoices):
    TICKET_CREATED = "TICKET_CREATED", _("Ticket created")
    STATUS_CHANGED = "STATUS_CHANGED", _("Status changed")
    ASSIGNEE_CHANGED = "ASSIGNEE_CHANGED", _("Assignee changed")
    TEAM_CHANGED = "TEAM_CHANGED", _("Team changed")
    PRIORITY_CHANGED = "PRIORITY_CHANGED", _("Priority changed")
    FIELDS_CHANGED = "FIELDS_CHANGED", _("Fields changed")
    TAGS_CHANGED = "TAGS_CHANGED", _("Tags changed")
    REQUESTER_CHANGED = "REQUESTER_CHANGED", _("Requester changed")
    FOLLOWERS_CHANGED = "FOLLOWERS_CHANGED", _("Followers changed")
    REPLY_ADDED = "REPLY_ADDED", _("Reply added")
    NOTE_ADDED = "NOTE_ADDED", _("Note added")
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED", _("Attachment added")
    LINK_ADDED = "LINK_ADDED", _("Link added")
    LINK_REMOVED = "LINK_REMOVED", _("Link removed")
    MERGED = "MERGED", _("Merged into another ticket")
    MERGED_FROM = "MERGED_FROM", _("Another ticket merged into this one")
    FOLLOW_UP_CREATED = "FOLLOW_UP_CREATED", _("Follow-up created")
    MARKED_SPAM = "MARKED_SPAM", _("Marked as spam")
    SLA_APPLIED = "SLA_APPLIED", _("SLA policy applied")
    SLA_WARNING = "SLA_WARNING", _("SLA target close to breach")
    SLA_BREACHED = "SLA_BREACHED", _("SLA target breached")
    SLA_ACHIEVED = "SLA_ACHIEVED", _("SLA target achieved")
    NOTIFICATION_SENT = "NOTIFICATION_SENT", _("Notification sent")
    NOTIFICATION_FAILED = "NOTIFICATION_FAILED", _("Notification failed")
    EMAIL_BOUNCED = "EMAIL_BOUNCED", _("Email bounced")
    SURVEY_ANSWERED = "SURVEY_ANSWERED", _("Satisfaction survey answered")
    AUTOMATION_APPLIED = "AUTOMATION_APPLIED", _("Automation applied")
    PHONE_CALL_LOGGED = "PHONE_CALL_LOGGED", _("Phone call logged")


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    DUPLICATE = "duplicate", _("Duplicate of")
    PARENT = "parent", _("Parent of")  # source is the parent of target
    PROBLEM = "problem", _("Problem of")  # source (a problem) groups target (an incident)


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    DROPDOWN = "dropdown", _("Dropdown")
    CHECKBOX = "checkbox", _("Checkbox")

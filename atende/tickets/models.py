import secrets
from contextlib import nullcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from atende.core import generations
from atende.core.memo import batch_cached
from atende.core.models import BaseModel
from atende.tickets.choices import (
    ActorKind,
    Channel,
    FieldKind,
    Level,
    LinkKind,
    MessageKind,
    StatusCategory,
    TicketEventType,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from atende.tickets.states import UNSOLVED_STATUSES, can_transition, category_of

DEFAULT_PRIORITY_MATRIX = {
    # urgency -> impact -> priority
    "low": {"low": "low", "medium": "low", "high": "normal"},
    "medium": {"low": "low", "medium": "normal", "high": "high"},
    "high": {"low": "normal", "medium": "high", "high": "urgent"},
}


# The settings row, kept per process (core.generations): every new ticket reads it (its priority). Changed only
# through ``tickets.services.settings``, which drops every process's copy.
TICKET_SETTINGS = "tickets.settings"


class TicketSettings(models.Model):
    """Help-desk-wide ticket rules set by the admin (one row)."""

    priority_matrix = models.JSONField(_("priority matrix (urgency → impact → priority)"), default=dict, blank=True)
    autoclose_after_hours = models.PositiveIntegerField(_("close solved tickets after (hours)"), default=96)
    require_resolution_summary = models.BooleanField(_("require a resolution summary to solve"), default=False)
    on_hold_pauses_sla = models.BooleanField(_("on hold pauses the SLA clock"), default=True)

    class Meta:
        verbose_name = _("ticket settings")
        verbose_name_plural = _("ticket settings")

    def __str__(self) -> str:
        return str(_("Ticket settings"))

    @classmethod
    def load(cls) -> "TicketSettings":
        """The row, shared by every caller in the process: read it, never change it (``ticket_settings_update``)."""
        return batch_cached(TICKET_SETTINGS, lambda: generations.kept(
            TICKET_SETTINGS, lambda: cls.objects.get_or_create(pk=1)[0]))

    def clean(self) -> None:
        """The matrix must name a known priority for every urgency × impact it lists (blank = the default)."""
        from django.core.exceptions import ValidationError as FormError

        matrix = self.priority_matrix or {}
        if not isinstance(matrix, dict):
            raise FormError({"priority_matrix": _("Use an object: urgency → impact → priority.")})
        levels, priorities = set(Level.values), set(TicketPriority.values)
        for urgency, row in matrix.items():
            if urgency not in levels or not isinstance(row, dict):
                raise FormError({"priority_matrix": _("Unknown urgency “%(value)s”.") % {"value": urgency}})
            for impact, priority in row.items():
                if impact not in levels:
                    raise FormError({"priority_matrix": _("Unknown impact “%(value)s”.") % {"value": impact}})
                if priority not in priorities:
                    raise FormError({"priority_matrix": _("Unknown priority “%(value)s”.") % {"value": priority}})

    def priority_for(self, urgency: str, impact: str) -> str:
        matrix = self.priority_matrix or DEFAULT_PRIORITY_MATRIX
        try:
            return TicketPriority(matrix[urgency][impact]).value
        except (KeyError, ValueError):
            return TicketPriority(DEFAULT_PRIORITY_MATRIX[urgency][impact]).value


class Category(BaseModel):
    """A small tree: Technical › Login, Billing › Invoices…"""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    default_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("default team"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["parent_id", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent")]

    def __str__(self) -> str:
        return f"{self.parent} › {self.name}" if self.parent_id else self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")

    def __str__(self) -> str:
        return self.name


class CustomField(BaseModel):
    key = models.SlugField(_("key"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=200)
    label_pt_br = models.CharField(_("label (Portuguese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=FieldKind.choices)
    choices = models.JSONField(_("choices (dropdown)"), default=list, blank=True)
    choice_labels = models.JSONField(_("choice labels"), default=dict, blank=True,
                                     help_text=_('What people see for each choice, e.g. {"pro": "Pro plan"}.'))
    choice_labels_pt_br = models.JSONField(_("choice labels (Portuguese)"), default=dict, blank=True)
    required_to_solve = models.BooleanField(_("required to solve"), default=False)
    customer_visible = models.BooleanField(_("visible to customers"), default=True)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("custom field")

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        for name in ("choice_labels", "choice_labels_pt_br"):
            labels = getattr(self, name)
            if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
                raise ValidationError({name: _("Write the labels as an object of choice → text.")})
            unknown = sorted(set(labels) - {str(c) for c in self.choices or []})
            if unknown:
                raise ValidationError({name: _("Labels for choices the field does not have: %(keys)s") % {
                    "keys": ", ".join(unknown)}})

    @staticmethod
    def _portuguese(language: str | None) -> bool:
        return (language or get_language() or "").lower().startswith("pt")

    def display_label(self, language: str | None = None) -> str:
        """The field's name in ``language`` (default: the active language)."""
        return self.label_pt_br if self._portuguese(language) and self.label_pt_br else self.label

    def option_label(self, value, language: str | None = None) -> str:
        """What people see for a stored choice: its label in ``language``, else its English label, else itself."""
        key = str(value)
        labels = self.choice_labels_pt_br if self._portuguese(language) else {}
        return labels.get(key) or (self.choice_labels or {}).get(key) or key

    def options(self, language: str | None = None) -> list[tuple[str, str]]:
        """(stored value, label) of every choice, in order."""
        return [(str(c), self.option_label(c, language)) for c in self.choices or []]

    def display_value(self, value, language: str | None = None) -> str:
        """A stored value as people read it: a choice's label, yes/no for a checkbox."""
        if value in (None, ""):
            return ""
        if self.kind == FieldKind.DROPDOWN:
            return self.option_label(value, language)
        if self.kind == FieldKind.CHECKBOX:
            with override(language) if language else nullcontext():
                return str(_("Yes") if value is True or str(value).lower() in {"1", "true", "on", "yes"} else _("No"))
        return str(value)


class TicketForm(BaseModel):
    """Which fields a kind of request asks for, and which are required."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_pt_br = models.CharField(_("name (Portuguese)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    ticket_type = models.CharField(_("ticket type"), max_length=20, choices=TicketType.choices, default=TicketType.QUESTION)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL)
    customer_visible = models.BooleanField(_("offered in the portal"), default=True)
    is_default = models.BooleanField(_("default form"), default=False)
    position = models.PositiveIntegerField(default=0)
    fields = models.ManyToManyField(CustomField, through="TicketFormField", blank=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("ticket form")

    def __str__(self) -> str:
        return self.name


class TicketFormField(models.Model):
    form = models.ForeignKey(TicketForm, on_delete=models.CASCADE, related_name="form_fields")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["form", "field"], name="form_field_unique")]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.field_id}"


# What ticket lists (queues, search results, profiles' histories) read of a ticket and its relations.
LIST_FIELDS = (
    "id", "number", "subject", "status", "priority", "type", "channel", "is_spam", "created_at", "updated_at",
    "solved_at", "sla_due_at", "version", "requester__id", "requester__name", "requester__email",
    "assignee__id", "assignee__name", "assignee__email", "team__id", "team__name", "organization__id",
    "organization__name", "category__id", "category__name", "category__parent_id", "category__parent__id",
    "category__parent__name", "category__parent__parent_id",
)


# The condition of the partial external-id indexes. A lookup by external id must repeat it (``.filter(HAS_EXTERNAL_ID,
# external_id=...)``): SQLite uses a partial index only when the query contains its condition literally, and
# otherwise scans the table (1.1 s per lookup with 3,000,000 messages).
HAS_EXTERNAL_ID = ~Q(external_id="")


class TicketQuerySet(models.QuerySet):
    def unsolved(self):
        return self.filter(status__in=UNSOLVED_STATUSES)

    def with_list_relations(self):
        return self.select_related("requester", "assignee", "team", "organization", "category", "category__parent")

    def for_list(self):
        """``with_list_relations`` reading only what ticket lists show: a ticket row has 45 columns and its
        people 20 each, and building every field of 300 model instances was half the cost of a list page."""
        return self.with_list_relations().only(*LIST_FIELDS)


class Ticket(models.Model):
    number = models.BigIntegerField(_("number"), unique=True, null=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    type = models.CharField(_("type"), max_length=20, choices=TicketType.choices, default=TicketType.QUESTION)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets", verbose_name=_("requester")
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
        verbose_name=_("organisation"),
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", verbose_name=_("team")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", verbose_name=_("category")
    )
    form = models.ForeignKey(TicketForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    tags = models.ManyToManyField(Tag, through="TicketTag", blank=True, related_name="tickets")
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TicketFollower", blank=True, related_name="followed_tickets"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    impact = models.CharField(_("impact"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    priority = models.CharField(_("priority"), max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    priority_manual = models.BooleanField(_("priority set by hand"), default=False)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    is_spam = models.BooleanField(_("spam"), default=False)
    external_id = models.CharField(_("external id"), max_length=200, blank=True, default="")
    reply_token = models.CharField(max_length=32, default="", editable=False)
    problem = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents", verbose_name=_("problem")
    )
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets")
    follow_up_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    # Timestamps
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_customer_reply_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    # SLA (maintained by the sla app through tickets.services.ticket_set_sla)
    sla_policy_id = models.PositiveIntegerField(null=True, blank=True)
    first_reply_due_at = models.DateTimeField(null=True, blank=True)
    next_reply_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(_("next SLA target"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_updated"),
            models.Index(fields=["assignee", "status", "-updated_at", "-id"], name="ticket_assignee_status"),
            models.Index(fields=["team", "status", "-updated_at", "-id"], name="ticket_team_status"),
            models.Index(fields=["requester", "-created_at", "-id"], name="ticket_requester_created"),
            models.Index(fields=["organization", "-created_at", "-id"], name="ticket_org_created"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            models.Index(fields=["sla_due_at", "id"], name="ticket_sla_due"),
            models.Index(fields=["status", "solved_at"], name="ticket_status_solved"),
            # Lists sorted by creation (the "Unassigned in my teams" queue, oldest first), read one (team or
            # assignee, status) at a time by ``keyset_page(branches=...)``.
            models.Index(fields=["status", "created_at", "id"], name="ticket_status_created"),
            models.Index(fields=["team", "status", "created_at", "id"], name="ticket_team_status_created"),
            models.Index(fields=["assignee", "status", "created_at", "id"], name="ticket_assignee_status_created"),
            # "Breaching soon" and lists sorted by SLA target or by number, one status at a time.
            models.Index(fields=["status", "sla_due_at", "id"], name="ticket_status_sla_due"),
            models.Index(fields=["status", "id"], name="ticket_status_id"),
            models.Index(fields=["external_id"], name="ticket_external_id", condition=HAS_EXTERNAL_ID),
            # The ticket page's related lists (follow-ups, incidents of a problem, merged tickets): almost every
            # value is NULL, so without these the newest-first query walks the whole table in date order.
            models.Index(fields=["follow_up_of", "-created_at"], name="ticket_follow_up_created",
                         condition=Q(follow_up_of__isnull=False)),
            models.Index(fields=["problem", "-created_at"], name="ticket_problem_created",
                         condition=Q(problem__isnull=False)),
            models.Index(fields=["merged_into", "-created_at"], name="ticket_merged_into_created",
                         condition=Q(merged_into__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    # Predicates on the row's own fields
    @property
    def status_category(self) -> StatusCategory:
        return category_of(self.status)

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED

    @property
    def is_solved(self) -> bool:
        return self.status == TicketStatus.SOLVED

    @property
    def is_unsolved(self) -> bool:
        return self.status in UNSOLVED_STATUSES

    def can_transition_to(self, status: str) -> bool:
        return can_transition(self.status, status)

    def apply_status(self, to: str, *, now, on_hold_pauses: bool = True) -> list[str]:
        """Set the status and every timestamp it implies. The only place ``status`` is assigned.

        Returns the names of the fields it changed (for ``save(update_fields=...)``).
        """
        old = self.status
        changed = ["status", "status_changed_at"]
        was_paused = category_of(old, on_hold_pauses=on_hold_pauses) == StatusCategory.PAUSED
        now_paused = category_of(to, on_hold_pauses=on_hold_pauses) == StatusCategory.PAUSED
        if was_paused and not now_paused and self.paused_since:
            self.paused_seconds += int((now - self.paused_since).total_seconds())
            self.paused_since = None
            changed += ["paused_seconds", "paused_since"]
        elif now_paused and not was_paused:
            self.paused_since = now
            changed.append("paused_since")
        if to == TicketStatus.SOLVED:
            self.solved_at = now
            changed.append("solved_at")
        elif to == TicketStatus.CLOSED:
            self.closed_at = now
            changed.append("closed_at")
        if old == TicketStatus.SOLVED and to == TicketStatus.OPEN:
            self.reopen_count += 1
            self.solved_at = None
            changed += ["reopen_count", "solved_at"]
        self.status = to
        self.status_changed_at = now
        return changed

    def new_reply_token(self) -> str:
        self.reply_token = secrets.token_hex(8)
        return self.reply_token


class TicketTag(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="ticket_tag_unique")]
        indexes = [models.Index(fields=["tag", "ticket"], name="ticket_tag_by_tag")]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.tag_id}"


class TicketFollower(models.Model):
    """A follower (agent) or CC (customer) who is kept informed."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_follower_unique")]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.user_id}"


class PhoneCallerId(models.Func):
    """A message's ``metadata.phone_call.caller_id`` as text, with the JSON path written literally.

    Used both by the ``message_phone_caller`` expression index and by queries for a caller's calls: Django's own
    JSON key lookups pass the path as a bound parameter, and the database only matches an indexed expression
    written identically. Compare it with ``str(user.pk)``.
    """

    output_field = models.TextField()

    def __init__(self):
        super().__init__(models.F("metadata"))

    def as_sql(self, compiler, connection, **extra_context):
        metadata, params = compiler.compile(self.source_expressions[0])
        return f"CAST(JSON_EXTRACT({metadata}, '$.phone_call.caller_id') AS TEXT)", params

    def as_postgresql(self, compiler, connection, **extra_context):
        metadata, params = compiler.compile(self.source_expressions[0])
        return f"(({metadata} -> 'phone_call') ->> 'caller_id')", params


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML (sanitised)"), blank=True)
    external_id = models.CharField(_("external id (e.g. email Message-ID)"), max_length=998, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="message_ticket_created"),
            models.Index(fields=["external_id"], name="message_external_id", condition=HAS_EXTERNAL_ID),
            models.Index(fields=["author", "-created_at"], name="message_author_created"),
            # A customer's logged phone calls (their profile's interactions).
            models.Index(PhoneCallerId(), models.F("created_at").desc(), name="message_phone_caller"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket.number}"

    @property
    def is_public(self) -> bool:
        return self.kind == MessageKind.REPLY

    @property
    def is_note(self) -> bool:
        return self.kind == MessageKind.NOTE


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.sha256[:2]}/{instance.sha256[2:4]}/{instance.sha256}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, db_index=True)
    content_id = models.CharField(max_length=255, blank=True)  # inline images (cid:)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class TicketEvent(models.Model):
    """The audit log and the timeline in one. Raw values only; labels are rendered in templates."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=TicketEventType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    data = models.JSONField(default=dict, blank=True)
    source_event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Written by a bulk load of history (seed, import): the events subscribers pass over it.
    backfill = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created"),
            models.Index(fields=["type", "created_at"], name="event_type_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} on ticket {self.ticket_id}"


class TicketLink(models.Model):
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticket_link_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="ticket_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"

from django.db import models


class BaseModel(models.Model):
    """Timestamps every domain row carries."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SiteConfiguration(models.Model):
    """Site-wide branding set by the admin (one row)."""

    name = models.CharField(max_length=100, default="Atende")
    logo = models.ImageField(upload_to="branding/", blank=True)
    primary_color = models.CharField(max_length=7, default="#1f6feb")
    accent_color = models.CharField(max_length=7, default="#0f766e")
    support_email = models.EmailField(blank=True)

    class Meta:
        verbose_name = "site configuration"
        verbose_name_plural = "site configuration"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> "SiteConfiguration":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class ThrottleBucket(models.Model):
    """One counting window of the product's throttle (``atende.core.throttle``): how many attempts ``subject``
    made at ``scope`` in the window starting at ``window_start`` (epoch seconds) of length ``period``.

    ``hits`` counts admitted attempts (zero when the shared cache counts them instead); ``refused`` counts the
    attempts the throttle turned away, which is the record kept of them. Old windows are pruned hourly.
    """

    scope = models.CharField(max_length=64)
    subject = models.CharField(max_length=255)
    period = models.PositiveIntegerField()
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    last_refused_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "refused attempt"
        constraints = [models.UniqueConstraint(fields=["scope", "subject", "period", "window_start"],
                                               name="throttle_bucket_unique")]
        indexes = [models.Index(fields=["expires_at"], name="throttle_bucket_expiry"),
                   models.Index(fields=["-last_refused_at"], name="throttle_bucket_refused",
                                condition=models.Q(refused__gt=0))]

    def __str__(self) -> str:
        return f"{self.scope}:{self.subject}@{self.window_start}/{self.period}"


class SubscriberCursor(models.Model):
    """How far one events subscriber has got through the event stream, for one partition of the tickets.

    ``position`` is the highest event id the subscriber has passed; ``gaps`` are ids below it that were missing
    when it passed them (on PostgreSQL an id is taken before its transaction commits, so a slower transaction can
    commit a lower id later): ``[[first_id, last_id, seen_at_epoch], …]``, rechecked until they appear or the
    visibility window expires. The cursor advances in the same transaction as the subscriber's effects.

    The lease (``lease_owner`` until ``lease_until``) says which worker process runs this cursor now; a worker
    that dies loses it when it expires."""

    subscriber = models.CharField(max_length=64)
    partition = models.PositiveSmallIntegerField(default=0)
    partitions = models.PositiveSmallIntegerField(default=1)
    position = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    lease_owner = models.CharField(max_length=120, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    processed_total = models.BigIntegerField(default=0)
    rate_window_start = models.DateTimeField(null=True, blank=True)
    rate_window_count = models.PositiveIntegerField(default=0)
    recent_rate = models.FloatField(default=0.0)
    last_batch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "partition"], name="subscriber_cursor_unique")]

    def __str__(self) -> str:
        return f"{self.subscriber}[{self.partition}/{self.partitions}] at {self.position}"


class EventRetryState(models.TextChoices):
    WAITING = "waiting", "Waiting"      # failed and waiting for its next attempt, or held behind its ticket's
    PARKED = "parked", "Parked"         # gave up after the last attempt: an admin retries or discards it
    SKIPPED = "skipped", "Skipped"      # an event type no subscriber knows: recorded, not run
    DISCARDED = "discarded", "Discarded"


class EventRetry(models.Model):
    """One event that one subscriber has not done in stream order: failed (retried with backoff, then parked),
    held behind an earlier failing event of the same ticket, or skipped (unknown type)."""

    subscriber = models.CharField(max_length=64)
    event_id = models.BigIntegerField()
    ticket_id = models.BigIntegerField(default=0)
    event_type = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=10, choices=EventRetryState.choices, default=EventRetryState.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "event_id"], name="event_retry_unique")]
        indexes = [models.Index(fields=["subscriber", "state", "next_attempt_at"], name="event_retry_due"),
                   models.Index(fields=["state", "-updated_at"], name="event_retry_state")]

    def __str__(self) -> str:
        return f"{self.subscriber} event {self.event_id} ({self.state})"


class WorkerHeartbeat(models.Model):
    """A live worker process (``atende events work`` or the one inside ``atende serve``): seen every few seconds.
    Background tasks RUNNING under a worker that stopped being seen are run again (the task reaper)."""

    worker_id = models.CharField(max_length=120, unique=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker_id

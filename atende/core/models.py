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

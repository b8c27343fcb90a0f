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

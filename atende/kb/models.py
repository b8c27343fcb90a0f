import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.kb.choices import ArticleLanguage, ArticleStatus, ArticleVisibility, DeflectionOutcome


def _localized(obj, field: str) -> str:
    """The Portuguese label when the active language is Portuguese and one is set."""
    if (get_language() or "").lower().startswith("pt"):
        return getattr(obj, f"{field}_pt_br") or getattr(obj, field)
    return getattr(obj, field)


class KbCategory(BaseModel):
    name = models.CharField(_("name"), max_length=120)
    name_pt_br = models.CharField(_("name (Portuguese)"), max_length=120, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_pt_br = models.CharField(_("description (Portuguese)"), max_length=300, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("knowledge base category")
        verbose_name_plural = _("knowledge base categories")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return _localized(self, "name")

    @property
    def blurb(self) -> str:
        return _localized(self, "description")

    def get_absolute_url(self) -> str:
        return reverse("kb:category", args=[self.slug])


class KbSection(BaseModel):
    category = models.ForeignKey(KbCategory, on_delete=models.PROTECT, related_name="sections",
                                 verbose_name=_("category"))
    name = models.CharField(_("name"), max_length=120)
    name_pt_br = models.CharField(_("name (Portuguese)"), max_length=120, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["category__position", "position", "name"]
        verbose_name = _("knowledge base section")
        verbose_name_plural = _("knowledge base sections")
        constraints = [models.UniqueConstraint(fields=["category", "name"], name="kb_section_unique_name")]

    def __str__(self) -> str:
        return f"{self.category} › {self.name}"

    @property
    def label(self) -> str:
        return _localized(self, "name")


class Article(BaseModel):
    """One article in one language. Translations share ``translation_group``."""

    section = models.ForeignKey(KbSection, on_delete=models.PROTECT, related_name="articles",
                                verbose_name=_("section"))
    language = models.CharField(_("language"), max_length=10, choices=ArticleLanguage.choices,
                                default=ArticleLanguage.EN)
    translation_group = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(_("body (rendered, sanitised)"), blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    visibility = models.CharField(_("visibility"), max_length=10, choices=ArticleVisibility.choices,
                                  default=ArticleVisibility.PUBLIC)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="kb_articles", verbose_name=_("author"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    related = models.ManyToManyField("self", blank=True, symmetrical=True, verbose_name=_("related articles"))
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_count = models.PositiveIntegerField(_("helpful votes"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful votes"), default=0)

    class Meta:
        ordering = ["section__position", "title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.UniqueConstraint(fields=["translation_group", "language"], name="kb_article_one_per_language"),
        ]
        indexes = [models.Index(fields=["status", "visibility", "language"], name="kb_article_listing")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    @property
    def is_internal(self) -> bool:
        return self.visibility == ArticleVisibility.INTERNAL

    @property
    def is_public(self) -> bool:
        return self.is_published and not self.is_internal

    @property
    def helpful_percent(self) -> int | None:
        total = self.helpful_count + self.not_helpful_count
        return round(100 * self.helpful_count / total) if total else None

    def get_absolute_url(self) -> str:
        return reverse("kb:article", args=[self.section.category.slug, self.slug])


def article_attachment_path(instance: "ArticleAttachment", filename: str) -> str:
    return f"kb/{instance.sha256[:2]}/{instance.sha256}"


class ArticleAttachment(models.Model):
    """A file or image attached to an article; served only by an access-checked view."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=article_attachment_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("kb:attachment", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ArticleVote(models.Model):
    """The "was this helpful?" answer: one vote per person (or per anonymous session) and article; changeable."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    session_key = models.CharField(max_length=64, blank=True)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], condition=Q(user__isnull=False),
                                    name="kb_vote_one_per_user"),
            models.UniqueConstraint(fields=["article", "session_key"], condition=Q(user__isnull=True),
                                    name="kb_vote_one_per_session"),
        ]

    def __str__(self) -> str:
        return f"{'helpful' if self.helpful else 'not helpful'} on article {self.article_id}"


class Deflection(models.Model):
    """A customer opened an article suggested on the request form (see docs/knowledge-base.md)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="kb_deflections")
    session_key = models.CharField(max_length=64)
    query = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=10, choices=DeflectionOutcome.choices, default=DeflectionOutcome.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["session_key", "outcome"], name="kb_deflection_session"),
            models.Index(fields=["outcome", "created_at"], name="kb_deflection_outcome"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["session_key", "article"], condition=Q(outcome="pending"),
                                    name="kb_deflection_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} deflection by article {self.article_id}"

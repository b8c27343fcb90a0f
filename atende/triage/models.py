from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.tickets.choices import FieldKind


class TriageModelQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class TriageModel(models.Model):
    """One trained model: its file under ``settings.TRIAGE_MODEL_DIR`` and what it was measured to do.

    ``fields`` holds, per predicted field, the cross-validated figures and the classes it knows or left out:
    ``{"team": {"accuracy": 0.91, "macro_f1": 0.8, "weighted_f1": 0.9, "examples": 1234,
    "classes": ["3", "5"], "left_out": {"7": 2}}, …}``. Only one model is active: the newest that trained."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    tickets = models.PositiveIntegerField(_("tickets learned from"))
    fields = models.JSONField(_("figures per field"), default=dict)
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    fit_seconds = models.FloatField(_("training seconds"), default=0)
    is_active = models.BooleanField(_("active"), default=False)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("trained by"))

    objects = TriageModelQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        verbose_name = _("triage model")
        verbose_name_plural = _("triage models")
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                               name="triage_one_active_model")]

    def __str__(self) -> str:
        return f"v{self.version}"


class PredictableField(models.Model):
    """A dropdown custom field an admin asked the triage model to predict."""

    custom_field = models.OneToOneField("tickets.CustomField", on_delete=models.CASCADE, related_name="+",
                                        verbose_name=_("custom field"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("predictable custom field")
        verbose_name_plural = _("predictable custom fields")

    def __str__(self) -> str:
        return str(self.custom_field)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError as FormError


        if self.custom_field_id and self.custom_field.kind != FieldKind.DROPDOWN:
            raise FormError({"custom_field": _("Only dropdown fields can be predicted.")})


class FieldSetting(models.Model):
    """Per predicted field (``team``, ``category``, ``urgency``, ``impact``, ``priority``, ``custom:<key>``):
    whether a suggestion at or above ``threshold`` is applied to new tickets without waiting for an agent."""

    field = models.CharField(_("field"), max_length=80, unique=True)
    auto_apply = models.BooleanField(_("apply automatically"), default=False)
    threshold = models.FloatField(_("confidence threshold"), default=0.9)

    class Meta:
        verbose_name = _("triage field setting")
        verbose_name_plural = _("triage field settings")
        constraints = [models.CheckConstraint(condition=models.Q(threshold__gte=0.5, threshold__lte=1.0),
                                              name="triage_threshold_range")]

    def __str__(self) -> str:
        return self.field


class AppliedBy(models.TextChoices):
    NOBODY = "", _("not applied")
    AUTOMATION = "automation", _("applied automatically")
    AGENT = "agent", _("applied by an agent")


class Prediction(models.Model):
    """The model's suggestion for one field of one ticket, as made when the ticket arrived, and what became of it:
    applied (automatically or by an agent's click) and/or overridden by an agent who set another value.

    ``value`` is stored as the ticket stores it: a row id for ``team`` and ``category``, the choice value for the
    others, the option for ``custom:<key>``."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    field = models.CharField(_("field"), max_length=80)
    value = models.CharField(_("suggested value"), max_length=200)
    confidence = models.FloatField(_("confidence"))
    model_version = models.PositiveIntegerField(_("model version"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    applied_by = models.CharField(max_length=20, choices=AppliedBy.choices, blank=True, default=AppliedBy.NOBODY)
    applied_at = models.DateTimeField(null=True, blank=True)
    overridden_value = models.CharField(_("value set instead"), max_length=200, blank=True, default="")
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("triage prediction")
        verbose_name_plural = _("triage predictions")
        constraints = [models.UniqueConstraint(fields=["ticket", "field"], name="triage_one_prediction_per_field")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.field}={self.value} ({self.confidence:.2f})"

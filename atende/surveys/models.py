from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.surveys.choices import Rating


class SatisfactionSurvey(BaseModel):
    """The satisfaction question for one ticket, asked when it is solved; one answer, changeable until closed."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="satisfaction",
                                  verbose_name=_("ticket"))
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="satisfaction_surveys", verbose_name=_("customer"))
    # Copied from the ticket when asked, so reports group without joins.
    team_id = models.PositiveBigIntegerField(null=True, blank=True)
    assignee_id = models.PositiveBigIntegerField(null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    times_changed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [
            models.Index(fields=["answered_at", "rating"], name="survey_answered"),
            models.Index(fields=["customer", "-answered_at"], name="survey_customer"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__in=["", "good", "bad"]), name="survey_rating_valid"),
        ]

    def __str__(self) -> str:
        return f"Survey for ticket {self.ticket_id}: {self.rating or 'unanswered'}"

    @property
    def is_answered(self) -> bool:
        return bool(self.rating)

    @property
    def is_good(self) -> bool:
        return self.rating == Rating.GOOD

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.audit.choices import AuditAction, AuditReason, SettingsOperation


class AuditEntry(models.Model):
    """One security-relevant event: who (actor), about whom (subject), on what (target), what changed, from where.

    Rows are only ever added by ``audit_record``; nothing in the product edits or deletes them, except a privacy
    erasure, which replaces the erased person's name and address with a pseudonym (``audit_pseudonymise``).
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("actor"))
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=20, blank=True)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("person"))
    subject_label = models.CharField(_("person"), max_length=254, blank=True)
    target_type = models.CharField(_("object type"), max_length=60, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)  # {"field": [old, new]}
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_time"),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_action_time"),
            models.Index(fields=["actor", "-created_at", "-id"], name="audit_actor_time"),
            models.Index(fields=["subject", "-created_at", "-id"], name="audit_subject_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.actor_label or '-'}"

    @property
    def operation_label(self) -> str:
        """The settings operation in the reader's language (the stored code when it is not a known one)."""
        operation = str(self.data.get("operation", "")) if isinstance(self.data, dict) else ""
        return SettingsOperation(operation).label if operation in SettingsOperation.values else operation

    @property
    def reason_label(self) -> str:
        """Why, in the reader's language (free text, such as an administrator's reason, is shown as written)."""
        reason = str(self.data.get("reason", "")) if isinstance(self.data, dict) else ""
        return AuditReason(reason).label if reason in AuditReason.values else reason

"""Admin for the email channel: mailboxes, sender rules, settings, templates, the inbound store (quarantine:
reprocess or discard). Queued mail is listed with every other delivery under "Outbound deliveries"."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from atende.audit.admin import AuditedAdmin
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import (
    EmailSettings,
    InboundMessage,
    Mailbox,
    NotificationTemplate,
    SenderRule,
    UndeliverableAddress,
)
from atende.email_channel.services import inbound_discard, inbound_reprocess
from atende.email_channel.services.notifications import default_template


class MailboxForm(forms.ModelForm):
    password = forms.CharField(label=_("password"), required=False, widget=forms.PasswordInput(render_value=True))
    oauth2_token = forms.CharField(label=_("OAuth2 access token"), required=False,
                                   widget=forms.PasswordInput(render_value=True))

    class Meta:
        model = Mailbox
        fields = ["name", "address", "team", "is_active", "imap_host", "imap_port", "tls", "auth_method", "username",
                  "password", "oauth2_token", "folder", "use_idle", "after_store", "move_to_folder",
                  "non_participant_policy"]


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    form = MailboxForm
    list_display = ["name", "address", "team", "imap_host", "is_active", "last_fetch_at", "last_error"]
    list_filter = ["is_active", "team"]
    readonly_fields = ["last_fetch_at", "last_error"]
    fieldsets = [
        (None, {"fields": ["name", "address", "team", "is_active"]}),
        (_("IMAP"), {"fields": ["imap_host", "imap_port", "tls", "auth_method", "username", "password",
                                "oauth2_token", "folder", "use_idle"]}),
        (_("After a message is stored"), {"fields": ["after_store", "move_to_folder"]}),
        (_("Replies"), {"fields": ["non_participant_policy"]}),
        (_("Status"), {"fields": ["last_fetch_at", "last_error"]}),
    ]


@admin.register(SenderRule)
class SenderRuleAdmin(AuditedAdmin):
    list_display = ["pattern", "kind", "note", "created_at"]
    list_filter = ["kind"]
    search_fields = ["pattern", "note"]


@admin.register(EmailSettings)
class EmailSettingsAdmin(AuditedAdmin):
    def has_add_permission(self, request):
        return not EmailSettings.objects.exists()


@admin.action(description=_("Reset to the shipped text"))
def reset_templates(modeladmin, request, queryset):
    for row in queryset:
        row.subject, row.body = default_template(row.kind, row.language)
        row.save(update_fields=["subject", "body", "updated_at"])


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(AuditedAdmin):
    list_display = ["kind", "language", "subject", "is_active"]
    list_filter = ["kind", "language", "is_active"]
    actions = [reset_templates]


@admin.action(description=_("Reprocess the selected quarantined messages"))
def reprocess(modeladmin, request, queryset):
    done = 0
    for row in queryset.filter(status=InboundStatus.QUARANTINED):
        try:
            inbound_reprocess(inbound=row, actor=Actor.for_user(request.user))
            done += 1
        except DomainError as exc:
            messages.error(request, exc.message)
    messages.info(request, _("%(count)d message(s) reprocessed.") % {"count": done})


@admin.action(description=_("Discard the selected quarantined messages"))
def discard(modeladmin, request, queryset):
    for row in queryset.filter(status=InboundStatus.QUARANTINED):
        inbound_discard(inbound=row, actor=Actor.for_user(request.user))


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "source", "mailbox", "status", "reason", "ticket_id"]
    list_filter = ["status", "source", "reason", "mailbox"]
    search_fields = ["sender", "subject", "message_id", "sha256"]
    actions = [reprocess, discard]
    exclude = ["raw"]
    readonly_fields = [f.name for f in InboundMessage._meta.fields if f.name != "raw"] + ["original"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("original"))
    def original(self, obj):
        url = reverse("email_channel:inbound_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a> · <a href="{}?download=1">{}</a>', url, _("view"), url, _("download"))


@admin.register(UndeliverableAddress)
class UndeliverableAddressAdmin(AuditedAdmin):
    """Addresses the desk no longer mails (a permanent bounce or a spam complaint). Deleting one clears it."""

    list_display = ["address", "kind", "bounces", "last_reported_at", "ticket_id"]
    list_filter = ["kind"]
    search_fields = ["address"]
    readonly_fields = ["address", "kind", "reason", "bounces", "first_reported_at", "last_reported_at", "ticket_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

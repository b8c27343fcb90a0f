"""The audit log in the Django admin (read only: no add, change or delete for anyone), and the mixin that records
every change made through the Django admin's forms (mailboxes, email settings, users, teams…) in the log."""

from django.contrib import admin
from django.db import models

from atende.accounts.admin import OrganizationAdmin, TeamAdmin, UserAdmin
from atende.accounts.identities import ORGANIZATION_DOMAINS
from atende.accounts.models import Organization, Team, User
from atende.accounts.selectors import AGENTS_AND_TEAMS
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.audit.services import audit_record, audit_settings_change, audit_user_change, model_snapshot
from atende.core import generations
from atende.core.admin import SiteConfigurationAdmin
from atende.core.models import SiteConfiguration


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor_label", "subject_label", "target_type", "target_label", "ip"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "subject_label", "target_label", "ip"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletions are recorded as settings changes, with what changed."""

    audit_exclude: tuple[str, ...] = ()
    audit_target_type = ""  # the entries' object type, when not the model's label (branding)
    audit_inlines = True  # rows edited in inlines (a ticket form's fields) are part of what changed
    # The names of the process copies (core.generations) this model's rows are part of: outdated on every save
    # and deletion here, as the services that write them do.
    outdates: tuple[str, ...] = ()

    def outdate_copies(self) -> None:
        for name in self.outdates:
            generations.bump(name)


    def _snapshot(self, obj: models.Model) -> dict:
        return model_snapshot(obj, exclude=self.audit_exclude)

    def _stored(self, obj: models.Model) -> dict:
        stored = type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None
        return self._snapshot(stored) if stored is not None else {}

    def save_model(self, request, obj, form, change):
        before = self._stored(obj) if change else {}
        super().save_model(request, obj, form, change)
        self.audit_saved(request, obj, before, self._snapshot(obj), change)
        self.outdate_copies()

    def audit_saved(self, request, obj, before: dict, after: dict, change: bool) -> None:
        audit_settings_change(actor=request.user, target=obj, operation="updated" if change else "created",
                              before=before, after=after, target_type=self.audit_target_type)

    @staticmethod
    def _inline_rows(formset, parent: models.Model) -> list[dict]:
        fk = getattr(formset, "fk", None)
        if fk is None or parent.pk is None:
            return []
        rows = formset.model._default_manager.filter(**{fk.name: parent}).order_by("pk")
        return [model_snapshot(row, exclude=(fk.name,)) for row in rows]

    def save_related(self, request, form, formsets, change):
        self.outdate_copies()  # rows edited inline (an organisation's domains) are part of the copies too
        if not self.audit_inlines or not formsets:
            return super().save_related(request, form, formsets, change)
        obj = form.instance
        before = {fs.prefix: self._inline_rows(fs, obj) for fs in formsets}
        super().save_related(request, form, formsets, change)
        after = {fs.prefix: self._inline_rows(fs, obj) for fs in formsets}
        if before != after:
            audit_settings_change(actor=request.user, target=obj, operation="updated", before=before, after=after,
                                  target_type=self.audit_target_type)

    def delete_model(self, request, obj):
        before = self._snapshot(obj)
        audit_settings_change(actor=request.user, target=obj, operation="deleted", before=before,
                              target_type=self.audit_target_type)
        super().delete_model(request, obj)
        self.outdate_copies()

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_settings_change(actor=request.user, target=obj, operation="deleted", before=self._snapshot(obj),
                                  target_type=self.audit_target_type)
        super().delete_queryset(request, queryset)
        self.outdate_copies()


class AuditedMembersAdmin(AuditedAdmin):
    """For a model with a ``members`` many-to-many edited in inlines (teams): membership changes are recorded
    as their own entry, naming who joined and who left."""

    audit_inlines = False

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        before = sorted(obj.members.values_list("email", flat=True)) if change else []
        super().save_related(request, form, formsets, change)
        after = sorted(obj.members.values_list("email", flat=True))
        if before != after:
            audit_record(action=AuditAction.TEAMS_CHANGED, actor=request.user, target=obj,
                         changes={"members": [before, after]},
                         data={"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after))})


class AuditedUserAdminMixin:
    """For the user admin: role changes, activations and new accounts are recorded."""

    audit_user_exclude = ("last_login",)

    def save_model(self, request, obj, form, change):
        stored = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
        before = model_snapshot(stored, exclude=self.audit_user_exclude) if stored is not None else {}
        super().save_model(request, obj, form, change)
        audit_user_change(actor=request.user, user=obj, before=before,
                          after=model_snapshot(obj, exclude=self.audit_user_exclude), created=not change)
        generations.bump(AGENTS_AND_TEAMS)  # a role, name or activation the assignee lists show may have changed

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        generations.bump(AGENTS_AND_TEAMS)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        generations.bump(AGENTS_AND_TEAMS)


# Branding (core), people, teams and organisations (accounts) live below the audit log, so their admins cannot
# import it: they are re-registered here with the recording mixins.
for _model in (SiteConfiguration, User, Team, Organization):
    admin.site.unregister(_model)


@admin.register(SiteConfiguration)
class AuditedSiteConfigurationAdmin(AuditedAdmin, SiteConfigurationAdmin):
    audit_target_type = "branding"  # as the console's branding page records it


@admin.register(Organization)
class AuditedOrganizationAdmin(AuditedAdmin, OrganizationAdmin):
    outdates = (ORGANIZATION_DOMAINS,)  # its domains are edited inline; deleting one deletes its domains
    pass


@admin.register(Team)
class AuditedTeamAdmin(AuditedMembersAdmin, TeamAdmin):
    outdates = (AGENTS_AND_TEAMS,)


@admin.register(User)
class AuditedUserAdmin(AuditedUserAdminMixin, UserAdmin):
    pass

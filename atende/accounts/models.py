from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.db.models.lookups import Lookup
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.accounts.choices import STAFF_ROLES, Availability, CustomerEventType, IdentityKind, Locale, Role
from atende.core.models import BaseModel


class Organization(BaseModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    shares_tickets = models.BooleanField(
        _("members see each other's tickets"), default=False
    )
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    """An email domain whose new customers join the organisation automatically."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("email domain"), max_length=255, unique=True)

    class Meta:
        verbose_name = _("organisation domain")

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().lstrip("@")
        super().save(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class LowerEquals(Lookup):
    """``email__iexact`` as ``LOWER(email) = LOWER(value)``, which the ``user_email_lower`` index answers. Django's
    own compiles to ``LIKE`` on SQLite and ``UPPER(…) = UPPER(…)`` on PostgreSQL, which no index serves: every
    sign-in, new sender and address check read the whole users table. Same matching: ASCII letters fold on SQLite
    (its LOWER and LIKE both do only those), all letters on PostgreSQL; ``_`` and ``%`` are plain characters."""

    lookup_name = "iexact"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"LOWER({lhs}) = LOWER({rhs})", [*lhs_params, *rhs_params]


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in or writes to support. Email is the login; the role decides what they may do."""

    # The login and the primary email identity; empty (NULL) for a customer reached only by phone or a handle.
    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CUSTOMER)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="members",
        verbose_name=_("organisation"),
    )
    locale = models.CharField(_("language"), max_length=10, choices=Locale.choices, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    email_verified = models.BooleanField(_("email verified"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Agents
    restrict_to_teams = models.BooleanField(
        _("restricted to own teams' tickets"), default=False,
    )
    availability = models.CharField(
        _("availability"), max_length=10, choices=Availability.choices, default=Availability.OFFLINE
    )
    capacity = models.PositiveIntegerField(_("capacity (max open tickets)"), null=True, blank=True)
    skills = models.JSONField(_("skills (tags, languages)"), default=list, blank=True)
    signature = models.TextField(_("signature"), blank=True)
    # Set on a customer merged into another one (the survivor); the merged row is kept, inactive, for history.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("merged into"))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["role", "is_active"]), models.Index(Lower("name"), name="user_name_lower"),
                   models.Index(Lower("email"), name="user_email_lower")]  # case-insensitive look-ups (LowerEquals)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"

    @property
    def first_name(self) -> str:
        return ((self.name or (self.email or "").split("@")[0]).split() or [self.display_name])[0]

    @property
    def is_staff(self) -> bool:
        """Django admin access: administrators only."""
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_staff_member(self) -> bool:
        """Works in the console (admin, agent or collaborator)."""
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_agent(self) -> bool:
        return self.role in (Role.ADMIN, Role.AGENT)

    @property
    def is_collaborator(self) -> bool:
        return self.role == Role.COLLABORATOR

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    def has_perm(self, perm, obj=None):
        return self.is_active and (self.is_superuser or self.role == Role.ADMIN)

    def has_module_perms(self, app_label):
        return self.is_active and (self.is_superuser or self.role == Role.ADMIN)


User._meta.get_field("email").register_lookup(LowerEquals)


class Team(BaseModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), unique=True)
    email = models.EmailField(_("team address"), blank=True)
    members = models.ManyToManyField(User, through="TeamMembership", related_name="teams", blank=True)
    assignment_strategy = models.CharField(_("assignment strategy"), max_length=20, default="manual")
    reassign_when_offline = models.BooleanField(_("reassign when the agent goes offline"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"


class ContactIdentity(BaseModel):
    """One way a customer is recognised: an email address (one primary, mirrored in ``User.email``), a phone
    number in E.164, or a channel handle (a Telegram user id, a WhatsApp number, a chat visitor id). The value is
    stored normalised, and unique per kind: one identity belongs to one customer (merge them otherwise)."""

    customer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities",
                                 verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=12, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=254)
    is_primary = models.BooleanField(_("primary"), default=False)
    verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        ordering = ["kind", "-is_primary", "value"]
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique"),
            models.UniqueConstraint(fields=["customer"], condition=models.Q(is_primary=True, kind="email"),
                                    name="identity_one_primary_email"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class CustomerEvent(models.Model):
    """A customer's own timeline: identities added or removed, customers merged in. Raw values only."""

    customer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="customer_events")
    type = models.CharField(max_length=32, choices=CustomerEventType.choices)
    actor_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_kind = models.CharField(max_length=12)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "created_at"], name="customer_event_created")]

    def __str__(self) -> str:
        return f"{self.type} on customer {self.customer_id}"

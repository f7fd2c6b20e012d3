"""Organizations (plans, CS and ECM providers, hospitals, other entities), their users, roles and API keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q

from cshub.accounts.roles import OrganizationKind, Role
from cshub.core.models import BaseModel, County


class Organization(BaseModel):
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices, db_index=True)
    name = models.CharField(max_length=200)
    npi = models.CharField("NPI", max_length=10, blank=True, help_text="Type 2 (organization) NPI")
    tin = models.CharField("TIN", max_length=9, blank=True, help_text="Tax ID number, 9 digits")
    plan_code = models.CharField(max_length=10, blank=True, help_text="DHCS plan code (plans only)")
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=10, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    counties_served = models.ManyToManyField(County, blank=True, related_name="organizations")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["npi"], condition=~Q(npi=""), name="organization_npi_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_plan(self) -> bool:
        return self.kind == OrganizationKind.PLAN


class OrganizationContact(BaseModel):
    class Kind(models.TextChoices):
        PRIMARY = "primary", "Primary"
        BILLING = "billing", "Billing"
        DATA = "data", "Data exchange / reporting"
        CLINICAL = "clinical", "Clinical"
        POINT_OF_CONTACT = "point_of_contact", "Point of contact"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PRIMARY)
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person (or, with is_service_account, a system that holds an API key) of exactly one organization."""

    username = None
    email = models.EmailField(unique=True)
    uuid = models.UUIDField(unique=True, editable=False, null=True)
    full_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=10, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_service_account = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: object, **kwargs: object) -> None:
        if self.uuid is None:
            import uuid

            self.uuid = uuid.uuid4()
        super().save(*args, **kwargs)

    @property
    def role_set(self) -> frozenset[str]:
        """The user's roles, loaded once per user object."""
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True)) if self.pk else frozenset()
            self._role_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def is_plan_staff(self) -> bool:
        return self.organization is not None and self.organization.kind == OrganizationKind.PLAN


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="user_role_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class ApiKey(BaseModel):
    """A system's key. It acts as its service-account user, so every scoping rule applies unchanged.
    Only a SHA-256 hash of the secret is stored; the key is shown once, when it is made."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

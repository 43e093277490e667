from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    ENGINEER = "engineer", "Engineer"
    ARCHITECT = "architect", "System architect"
    BILLING = "billing", "Billing"
    ADMIN = "admin", "Admin"


class EmailUserManager(BaseUserManager["User"]):
    """Users are found and created by email; the inherited `username` mirrors it."""

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        email = self.normalize_email(email).lower()
        user = self.model(email=email, username=email, **extra)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


def user_name(display_name: str, first_name: str, last_name: str, email: str) -> str:
    """`User.name` from the user's columns, for rows read with values(): the display name,
    else the full name, else the e-mail address."""
    return display_name or f"{first_name} {last_name}".strip() or email


class User(AbstractUser):
    """Staff users and customer contacts who log in. Email is the login name.

    A staff user has a `vendor` and roles; a contact's user has a `contact` (customers app).
    """

    email = models.EmailField(unique=True)
    vendor = models.ForeignKey(
        "core.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    display_name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, for pages and calls.")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects: ClassVar[EmailUserManager] = EmailUserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def name(self) -> str:
        return user_name(self.display_name, self.first_name, self.last_name, self.email)


class StaffRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="uniq_user_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role}"


class Absence(models.Model):
    """Vacation, time off, a project: assignment skips the person during it (T-7)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after"
            )
        ]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

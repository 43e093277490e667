from __future__ import annotations

from django_otp import user_has_device

from supportdesk.accounts.models import User
from supportdesk.core.errors import NotFound
from supportdesk.core.models import Vendor


def user_get_by_email(*, email: str) -> User:
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user


def two_factor_step(user: User) -> str | None:
    """What a signed-in, not yet OTP-verified user must do first: "verify", "enrol" or nothing.

    Staff (and superusers) with a confirmed device verify it after every password sign-in;
    staff of a vendor that requires two-factor enrol one first. Contacts are never asked.
    """
    if not (user.is_staff or user.is_superuser):
        return None
    if user_has_device(user, confirmed=True):
        return "verify"
    if user.vendor_id and Vendor.objects.filter(pk=user.vendor_id, require_staff_2fa=True).exists():
        return "enrol"
    return None

"""Who is asking, and what they may see.

Every selector a customer can reach takes a Principal and filters by it (house rule 11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from supportdesk.core.errors import Forbidden

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Principal:
    user_id: int
    vendor_id: int | None
    organization_id: int | None
    contact_id: int | None
    roles: frozenset[str]
    is_superuser: bool

    @property
    def is_contact(self) -> bool:
        return self.contact_id is not None

    @property
    def is_staff(self) -> bool:
        return not self.is_contact

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or "admin" in self.roles or bool(self.roles & set(roles))


def principal_from(
    *,
    user_id: int | None,
    is_staff: bool,
    is_superuser: bool,
    vendor_id: int | None,
    roles: Iterable[str] = (),
    contact_id: int | None = None,
    organization_id: int | None = None,
    organization_vendor_id: int | None = None,
) -> Principal:
    """The principal of a user described by its columns (a contact's when ``contact_id``)."""
    if contact_id is not None:
        return Principal(
            user_id=user_id,  # type: ignore[arg-type]
            vendor_id=organization_vendor_id,
            organization_id=organization_id,
            contact_id=contact_id,
            roles=frozenset(),
            is_superuser=False,
        )
    # Unticking "staff" (or removing the contact) takes a user's access away at once: such a
    # user keeps no vendor and no roles, so every scoped query is empty.
    staff = bool(user_id) and bool(is_staff or is_superuser)
    return Principal(
        user_id=user_id,  # type: ignore[arg-type]
        vendor_id=vendor_id if staff else None,
        organization_id=None,
        contact_id=None,
        roles=frozenset(roles) if staff else frozenset(),
        is_superuser=bool(is_superuser),
    )


def principal_for(user: Any) -> Principal:
    contact = getattr(user, "contact", None) if user.pk else None
    if contact is not None:
        return principal_from(
            user_id=user.pk,
            is_staff=False,
            is_superuser=False,
            vendor_id=None,
            contact_id=contact.pk,
            organization_id=contact.organization_id,
            organization_vendor_id=contact.organization.vendor_id,
        )
    staff = bool(user.pk) and bool(user.is_staff or user.is_superuser)
    return principal_from(
        user_id=user.pk,
        is_staff=user.is_staff,
        is_superuser=user.is_superuser,
        vendor_id=getattr(user, "vendor_id", None),
        roles=user.roles.values_list("role", flat=True) if staff else (),
    )


def scope(
    qs: QuerySet[M], principal: Principal, *, vendor_field: str, organization_field: str | None
) -> QuerySet[M]:
    """Restrict `qs` to what `principal` may see: its organisation, else its vendor."""
    where = scope_filter(
        principal, vendor_field=vendor_field, organization_field=organization_field
    )
    return qs.none() if where is None else qs.filter(**where)


def scope_filter(
    principal: Principal, *, vendor_field: str, organization_field: str | None
) -> dict[str, int | None] | None:
    """The filter of `scope`: {} for everything (a superuser), None for nothing."""
    if principal.is_contact:
        if organization_field is None:
            return None
        return {organization_field: principal.organization_id}
    if principal.vendor_id is None:
        return {} if principal.is_superuser else None
    return {vendor_field: principal.vendor_id}


def require_staff_of(principal: Principal, vendor_id: int) -> None:
    """Writes that only the vendor's own staff (or a superuser) may make."""
    if not principal.is_staff:
        raise Forbidden("only staff may do this")
    if not principal.is_superuser and principal.vendor_id != vendor_id:
        raise Forbidden("this belongs to another vendor")

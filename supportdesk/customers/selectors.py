from __future__ import annotations

from django.db.models import Q, QuerySet

from supportdesk.core.emails import normalise_address
from supportdesk.core.errors import NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Organization,
    PhoneKind,
)


def organization_list(*, principal: Principal) -> QuerySet[Organization]:
    qs = Organization.objects.order_by("name")
    return scope(qs, principal, vendor_field="vendor_id", organization_field="id")


def organization_get(*, principal: Principal, organization_id: int) -> Organization:
    org = organization_list(principal=principal).filter(pk=organization_id).first()
    if org is None:
        raise NotFound(f"organisation {organization_id} not found")
    return org


def contact_list(*, principal: Principal, organization_id: int) -> QuerySet[Contact]:
    org = organization_get(principal=principal, organization_id=organization_id)
    return org.contacts.prefetch_related("emails", "phones").order_by("name", "pk")


def contact_get(*, principal: Principal, contact_id: int) -> Contact:
    """The contact with its organisation and the organisation's vendor."""
    qs = scope(
        Contact.objects.select_related("organization__vendor"),
        principal,
        vendor_field="organization__vendor_id",
        organization_field="organization_id",
    )
    contact = qs.filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def contact_find_by_email(*, vendor_id: int, address: str) -> Contact | None:
    """The contact an address identifies (T-2), case-insensitively, or None."""
    row = (
        ContactEmail.objects.select_related("contact__organization")
        .filter(vendor_id=vendor_id, address=normalise_address(address))
        .first()
    )
    return row.contact if row else None


def contact_find_by_phone(
    *, vendor_id: int, number: str, kind: str = PhoneKind.VOICE
) -> Contact | None:
    """The contact an E.164 number identifies: a caller's phone, or (``kind="fax"``) the line
    a fax came from."""
    row = (
        ContactPhone.objects.select_related("contact__organization")
        .filter(vendor_id=vendor_id, number=number, kind=kind)
        .order_by("pk")
        .first()
    )
    return row.contact if row else None


def organization_search(*, principal: Principal, text: str = "") -> QuerySet[Organization]:
    """The principal's organisations whose name, a contact's name or a contact's address
    contains ``text`` (case-insensitively), by name; all of them for an empty text."""
    qs = organization_list(principal=principal)
    text = text.strip()
    if text:
        qs = qs.filter(
            Q(name__icontains=text)
            | Q(contacts__name__icontains=text)
            | Q(contacts__emails__address__icontains=text)
        ).distinct()
    return qs

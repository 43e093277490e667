from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from supportdesk.core.emails import normalise_address
from supportdesk.core.errors import NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.queries import prepared_statement
from supportdesk.core.tenancy import Principal, scope, scope_filter
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


_CONTACT = [f.attname for f in Contact._meta.concrete_fields]
_ORGANIZATION = [f.attname for f in Organization._meta.concrete_fields]
_VENDOR = [f.attname for f in Vendor._meta.concrete_fields]
_EMAIL = [f.attname for f in ContactEmail._meta.concrete_fields]


@prepared_statement
def _contact_rows(
    contact_id: int, *scope_values: int, scoped_by: tuple[str, ...], with_emails: bool = False
) -> QuerySet:
    """The contact with its organisation's and its vendor's columns, narrowed by `scope`;
    `with_emails`: a row per address of the contact (one with none if it has none)."""
    rows = Contact.objects.filter(pk=contact_id, **dict(zip(scoped_by, scope_values, strict=True)))
    columns = [
        *_CONTACT,
        *(f"organization__{n}" for n in _ORGANIZATION),
        *(f"organization__vendor__{n}" for n in _VENDOR),
    ]
    if with_emails:
        return rows.values_list(*columns, *(f"emails__{n}" for n in _EMAIL)).order_by("emails__id")
    return rows.values_list(*columns)


def contact_get(*, principal: Principal, contact_id: int, with_emails: bool = False) -> Contact:
    """The contact with its organisation and the organisation's vendor: compiled once, as
    every ticket a staff member files for a customer reads one (issue 16.2). `with_emails`:
    its addresses too, in the same statement, as ``prefetch_related("emails")`` leaves them
    (the create path reads them for the search document and the acknowledgement)."""
    where = scope_filter(
        principal, vendor_field="organization__vendor_id", organization_field="organization_id"
    )
    # nothing visible, or a contact without an organisation (every contact has one)
    if where is None or None in where.values():
        raise NotFound(f"contact {contact_id} not found")
    rows = _contact_rows(
        contact_id, *where.values(), scoped_by=tuple(where), with_emails=with_emails
    )
    if not rows:
        raise NotFound(f"contact {contact_id} not found")
    alias, row = connection.alias, rows[0]
    org_end = len(_CONTACT) + len(_ORGANIZATION)
    vendor_end = org_end + len(_VENDOR)
    contact = Contact.from_db(alias, _CONTACT, row[: len(_CONTACT)])
    organization = Organization.from_db(alias, _ORGANIZATION, row[len(_CONTACT) : org_end])
    organization._state.fields_cache["vendor"] = Vendor.from_db(
        alias, _VENDOR, row[org_end:vendor_end]
    )
    contact._state.fields_cache["organization"] = organization
    if with_emails:
        found = [r[vendor_end:] for r in rows if r[vendor_end] is not None]
        _emails_cached(contact, [ContactEmail.from_db(alias, _EMAIL, r) for r in found])
    return contact


@prepared_statement
def _email_rows(contact_ids: list[int]) -> QuerySet:
    return ContactEmail.objects.filter(contact_id__in=contact_ids).values_list(*_EMAIL)


def _emails_cached(contact: Contact, emails: list[ContactEmail]) -> None:
    """`contact.emails.all()` answers `emails` from now on, as after a prefetch."""
    for email in emails:
        email._state.fields_cache["contact"] = contact
    cached = contact.emails.get_queryset()
    cached._result_cache = emails
    contact.__dict__.setdefault("_prefetched_objects_cache", {})["emails"] = cached


def contacts_emails_prefetch(contacts: Sequence[Contact]) -> None:
    """``prefetch_related_objects(contacts, "emails")`` for the create path: its statement
    compiled once (issue 16.2), the same rows in the same order. Contacts whose addresses
    were read already (a prefetch, `contact_get(with_emails=True)`) are not read again."""
    pending = [c for c in contacts if "emails" not in getattr(c, "_prefetched_objects_cache", {})]
    if not pending:
        return
    rows: dict[int, list[tuple[Any, ...]]] = {c.pk: [] for c in pending}
    for row in _email_rows(list(rows)):
        rows[row[_EMAIL.index("contact_id")]].append(row)
    alias = connection.alias
    for contact in pending:
        _emails_cached(
            contact, [ContactEmail.from_db(alias, _EMAIL, row) for row in rows[contact.pk]]
        )


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

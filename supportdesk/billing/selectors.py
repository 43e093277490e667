"""Reads of invoices, scoped by the requesting principal (house rule 11)."""

from __future__ import annotations

from django.db.models import QuerySet

from supportdesk.billing.models import Invoice, InvoiceState
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, scope

STAFF_ROLES = ("billing", "agent", "engineer", "architect")


def invoice_list(
    *, principal: Principal, state: str | None = None, organization_id: int | None = None
) -> QuerySet[Invoice]:
    """Issued invoices and credit notes (drafts for staff only): a contact sees its
    organisation's, staff their vendor's."""
    qs = scope(
        Invoice.objects.select_related("organization").prefetch_related("lines"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if principal.is_contact:
        qs = qs.exclude(state=InvoiceState.DRAFT)
    if state is not None:
        if state not in InvoiceState.values:
            raise InvalidInput(f"state must be one of {', '.join(InvoiceState.values)}")
        qs = qs.filter(state=state)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs.order_by("-issue_date", "-number", "-pk")


def invoice_get(*, principal: Principal, number: int) -> Invoice:
    """The invoice with this number that the principal may see; anything else is 404."""
    qs = invoice_list(principal=principal).filter(number=number)
    found = qs.first()
    if found is None:
        raise NotFound(f"no invoice {number}")
    return found

"""Reads of devices and RMAs. Every selector a customer reaches filters by the principal's
organisation (house rule 11): a contact sees its own organisation's devices and RMAs only."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from supportdesk.assets.domain.warranty import ContractTerm, Standing, standing
from supportdesk.assets.models import Asset, HardwareModel, Rma, RmaEvent, TicketAsset
from supportdesk.core.errors import NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.tickets.models import Ticket


def hardware_model_list(*, principal: Principal) -> QuerySet[HardwareModel]:
    """Staff: the vendor's models. A contact: the models of its organisation's devices."""
    qs = HardwareModel.objects.order_by("manufacturer", "name", "pk")
    if principal.is_contact:
        return qs.filter(assets__organization_id=principal.organization_id).distinct()
    return scope(qs, principal, vendor_field="vendor_id", organization_field=None)


def hardware_model_get(*, principal: Principal, model_id: int) -> HardwareModel:
    found = hardware_model_list(principal=principal).filter(pk=model_id).first()
    if found is None:
        raise NotFound(f"hardware model {model_id} not found")
    return found


def asset_list(
    *,
    principal: Principal,
    organization_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
) -> QuerySet[Asset]:
    qs = scope(
        Asset.objects.select_related("model", "organization", "site", "contract"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(
            Q(serial__icontains=q)
            | Q(model__name__icontains=q)
            | Q(organization__name__icontains=q)
        )
    return qs.order_by("organization__name", "model__name", "serial", "pk")


def organization_devices(
    *, principal: Principal, organization_id: int, today: date
) -> list[tuple[Asset, Standing]]:
    """One organisation's devices with their warranty and contract standing on ``today`` (the
    vendor's day, passed in): one query, model, site and contract joined."""
    return [
        (
            asset,
            standing(
                asset.warranty_ends_on,
                None
                if asset.contract is None
                else ContractTerm(
                    state=asset.contract.state, start=asset.contract.start, end=asset.contract.end
                ),
                today,
            ),
        )
        for asset in asset_list(principal=principal, organization_id=organization_id)
    ]


def asset_get(*, principal: Principal, asset_id: int) -> Asset:
    found = asset_list(principal=principal).filter(pk=asset_id).first()
    if found is None:
        raise NotFound(f"device {asset_id} not found")
    return found


def ticket_asset(*, ticket: Ticket) -> Asset | None:
    """The device the ticket names (the caller has already checked it may see the ticket)."""
    link = (
        TicketAsset.objects.select_related("asset__model", "asset__contract", "asset__site")
        .filter(ticket=ticket)
        .first()
    )
    return link.asset if link is not None else None


def rma_list(
    *,
    principal: Principal,
    ticket_id: int | None = None,
    asset_id: int | None = None,
    state: str | None = None,
) -> QuerySet[Rma]:
    qs = scope(
        Rma.objects.select_related("asset__model", "organization", "ticket", "invoice"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if asset_id is not None:
        qs = qs.filter(asset_id=asset_id)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def rma_get(*, principal: Principal, rma_id: int) -> Rma:
    found = rma_list(principal=principal).filter(pk=rma_id).first()
    if found is None:
        raise NotFound(f"RMA {rma_id} not found")
    return found


def rma_events(*, rma: Rma) -> QuerySet[RmaEvent]:
    return rma.events.select_related("actor").order_by("at", "pk")

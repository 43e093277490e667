"""API routes (thin): hardware models and devices (H-1), RMAs and their transitions (H-2,
H-3). Staff see their vendor's; a contact its own organisation's (and may approve or decline
its repair quotes). Every refused transition is a 409 with the workflow's message."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import AttachmentIn, Day, Id, Price
from supportdesk.assets import selectors, services, services_rma
from supportdesk.assets.domain.rma import Kind, State, allowed_actions
from supportdesk.assets.models import Asset, HardwareModel, Rma
from supportdesk.contracts import selectors as contract_selectors
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.customers import selectors as customer_selectors
from supportdesk.customers.models import Site
from supportdesk.tickets import selectors as ticket_selectors

router = Router(tags=["assets"])


class HardwareModelOut(Schema):
    id: int
    manufacturer: str
    name: str
    warranty_months: int
    end_of_life_on: date | None
    repair_lead_days: int
    unit_price: Decimal | None
    currency: str


class HardwareModelIn(Schema):
    manufacturer: str = Field(min_length=1, max_length=120)
    name: str = Field(min_length=1, max_length=120)
    warranty_months: int = Field(12, ge=0, le=600)
    end_of_life_on: Day | None = None
    repair_lead_days: int = Field(14, ge=1, le=3650)
    unit_price: Price | None = Field(None, ge=0)
    currency: str = Field("USD", min_length=3, max_length=3)


class AssetOut(Schema):
    id: int
    organization: int
    organization_name: str
    site: int | None
    model: HardwareModelOut
    serial: str
    purchased_on: date | None
    warranty_ends_on: date | None
    in_warranty: bool
    contract: int | None
    contract_covers: bool
    exchange_allowed: bool
    status: str


class AssetIn(Schema):
    organization: Id
    model: Id
    serial: str = Field(min_length=1, max_length=120)
    purchased_on: Day | None = None
    site: Id | None = None
    contract: Id | None = None
    status: Literal["in_service", "in_repair", "exchanged", "retired"] = "in_service"


class AssetPatch(Schema):
    serial: str | None = Field(None, min_length=1, max_length=120)
    purchased_on: Day | None = None
    site: Id | None = None
    contract: Id | None = None
    status: Literal["in_service", "in_repair", "exchanged", "retired"] | None = None


class RmaEventOut(Schema):
    at: datetime
    kind: str
    from_state: str
    to_state: str
    data: dict[str, Any]


class RmaOut(Schema):
    id: int
    number: str
    kind: str
    state: str
    organization: int
    asset: int
    ticket: int
    defective_serial: str
    replacement_serial: str
    carrier: str
    tracking_number: str
    due_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    quote_amount: Decimal | None
    currency: str
    invoice: str | None
    invoice_state: str | None
    allowed_actions: list[str]
    events: list[RmaEventOut]


class RmaIn(Schema):
    ticket: Id
    asset: Id
    kind: Literal["advance_exchange", "return_to_factory"]


class RmaTransitionIn(Schema):
    action: str = Field(min_length=1, max_length=40)
    carrier: str = Field("", max_length=60)
    tracking_number: str = Field("", max_length=120)
    replacement_serial: str = Field("", max_length=120)
    quote_amount: Price | None = Field(None, ge=0)
    quote_document: AttachmentIn | None = None
    note: str = Field("", max_length=500)


class TicketAssetIn(Schema):
    asset: Id | None = None


def model_out(m: HardwareModel) -> dict[str, Any]:
    return {
        "id": m.pk, "manufacturer": m.manufacturer, "name": m.name,
        "warranty_months": m.warranty_months, "end_of_life_on": m.end_of_life_on,
        "repair_lead_days": m.repair_lead_days, "unit_price": m.unit_price,
        "currency": m.currency,
    }  # fmt: skip


def asset_out(a: Asset) -> dict[str, Any]:
    stand = services_rma.asset_standing(asset=a, now=clock.now())
    return {
        "id": a.pk, "organization": a.organization_id, "organization_name": a.organization.name,
        "site": a.site_id, "model": model_out(a.model), "serial": a.serial,
        "purchased_on": a.purchased_on, "warranty_ends_on": a.warranty_ends_on,
        "in_warranty": stand.in_warranty, "contract": a.contract_id,
        "contract_covers": stand.covered, "exchange_allowed": stand.exchange_allowed,
        "status": a.status,
    }  # fmt: skip


def rma_out(r: Rma) -> dict[str, Any]:
    return {
        "id": r.pk, "number": r.label, "kind": r.kind, "state": r.state,
        "organization": r.organization_id, "asset": r.asset_id, "ticket": r.ticket.ref,
        "defective_serial": r.defective_serial, "replacement_serial": r.replacement_serial,
        "carrier": r.carrier, "tracking_number": r.tracking_number, "due_at": r.due_at,
        "warned_at": r.warned_at, "breached_at": r.breached_at, "quote_amount": r.quote_amount,
        "currency": r.currency,
        "invoice": r.invoice.label if r.invoice else None,
        "invoice_state": r.invoice.state if r.invoice else None,
        "allowed_actions": [a.value for a in allowed_actions(Kind(r.kind), State(r.state))],
        "events": [
            {"at": e.at, "kind": e.kind, "from_state": e.from_state, "to_state": e.to_state,
             "data": e.data}
            for e in selectors.rma_events(rma=r)
        ],
    }  # fmt: skip


def _staff_vendor(request: HttpRequest) -> Vendor:
    principal = principal_of(request)
    if principal.is_contact or principal.vendor_id is None:
        raise Forbidden("only the vendor's staff may do this")
    return Vendor.objects.get(pk=principal.vendor_id)


@router.get("/hardware-models", response={200: list[HardwareModelOut], **ERRORS})
def list_models(request: HttpRequest) -> Any:
    return [model_out(m) for m in selectors.hardware_model_list(principal=principal_of(request))]


@router.post("/hardware-models", response={201: HardwareModelOut, **ERRORS})
def create_model(request: HttpRequest, payload: HardwareModelIn) -> Any:
    model = services.hardware_model_create(
        principal=principal_of(request), vendor=_staff_vendor(request), **payload.dict()
    )
    return Status(201, model_out(model))


@router.get("/hardware-models/{int:model_id}", response={200: HardwareModelOut, **ERRORS})
def get_model(request: HttpRequest, model_id: int) -> Any:
    return model_out(
        selectors.hardware_model_get(principal=principal_of(request), model_id=model_id)
    )


@router.get("/assets", response={200: list[AssetOut], **ERRORS})
def list_assets(
    request: HttpRequest,
    organization: Id | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Any:
    rows = selectors.asset_list(
        principal=principal_of(request),
        organization_id=organization,
        status=status,
        q=(q or "")[:100],
    )
    return [asset_out(a) for a in rows[:500]]


def _refs(request: HttpRequest, org_id: int, site: int | None, contract: int | None) -> Any:
    principal = principal_of(request)
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    found_site = None
    if site is not None:
        found_site = Site.objects.filter(pk=site, organization=org).first()
        if found_site is None:
            raise InvalidInput(f"site {site} is not one of {org.name}'s")
    found_contract = (
        contract_selectors.contract_get(principal=principal, contract_id=contract)
        if contract is not None
        else None
    )
    return org, found_site, found_contract


@router.post("/assets", response={201: AssetOut, **ERRORS})
def create_asset(request: HttpRequest, payload: AssetIn) -> Any:
    principal = principal_of(request)
    _staff_vendor(request)
    org, site, contract = _refs(request, payload.organization, payload.site, payload.contract)
    model = selectors.hardware_model_get(principal=principal, model_id=payload.model)
    asset = services.asset_create(
        principal=principal, organization=org, model=model, serial=payload.serial,
        purchased_on=payload.purchased_on, site=site, contract=contract, status=payload.status,
        now=clock.now(),
    )  # fmt: skip
    return Status(201, asset_out(asset))


@router.get("/assets/{int:asset_id}", response={200: AssetOut, **ERRORS})
def get_asset(request: HttpRequest, asset_id: int) -> Any:
    return asset_out(selectors.asset_get(principal=principal_of(request), asset_id=asset_id))


@router.patch("/assets/{int:asset_id}", response={200: AssetOut, **ERRORS})
def update_asset(request: HttpRequest, asset_id: int, payload: AssetPatch) -> Any:
    principal = principal_of(request)
    asset = selectors.asset_get(principal=principal, asset_id=asset_id)
    _staff_vendor(request)
    given = payload.dict(exclude_unset=True)
    fields: dict[str, Any] = {k: v for k, v in given.items() if k not in ("site", "contract")}
    if "site" in given or "contract" in given:
        _, site, contract = _refs(
            request, asset.organization_id, given.get("site"), given.get("contract")
        )
        if "site" in given:
            fields["site"] = site
        if "contract" in given:
            fields["contract"] = contract
    if fields.get("serial", "") is None or fields.get("status", "") is None:
        raise InvalidInput("serial and status cannot be empty")
    services.asset_update(principal=principal, asset=asset, **fields)
    return asset_out(selectors.asset_get(principal=principal, asset_id=asset_id))


@router.put("/tickets/{int:ref}/asset", response={200: AssetOut | None, **ERRORS})
def name_ticket_asset(request: HttpRequest, ref: int, payload: TicketAssetIn) -> Any:
    """Name the device a ticket is about (staff), or none."""
    principal = principal_of(request)
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    asset = (
        selectors.asset_get(principal=principal, asset_id=payload.asset)
        if payload.asset is not None
        else None
    )
    services.ticket_asset_link(principal=principal, ticket=ticket, asset=asset, now=clock.now())
    return asset_out(asset) if asset is not None else None


@router.get("/rmas", response={200: list[RmaOut], **ERRORS})
def list_rmas(
    request: HttpRequest, ticket: Id | None = None, asset: Id | None = None,
    state: str | None = None,
) -> Any:  # fmt: skip
    rows = selectors.rma_list(
        principal=principal_of(request), ticket_id=ticket, asset_id=asset, state=state
    )
    return [rma_out(r) for r in rows[:200]]


@router.post("/rmas", response={201: RmaOut, **ERRORS})
def start_rma(request: HttpRequest, payload: RmaIn) -> Any:
    """Start an RMA from a ticket for one of its organisation's devices (staff)."""
    principal = principal_of(request)
    ticket = ticket_selectors.ticket_get(principal=principal, ref=payload.ticket)
    asset = selectors.asset_get(principal=principal, asset_id=payload.asset)
    rma = services_rma.rma_start(
        principal=principal, ticket=ticket, asset=asset, kind=payload.kind, now=clock.now()
    )
    return Status(201, rma_out(rma))


@router.get("/rmas/{int:rma_id}", response={200: RmaOut, **ERRORS})
def get_rma(request: HttpRequest, rma_id: int) -> Any:
    return rma_out(selectors.rma_get(principal=principal_of(request), rma_id=rma_id))


@router.post("/rmas/{int:rma_id}/transitions", response={200: RmaOut, **ERRORS})
def transition_rma(request: HttpRequest, rma_id: int, payload: RmaTransitionIn) -> Any:
    """One workflow step: ship_replacement, receive_defective, receive, send_to_manufacturer,
    quote, approve, decline, mark_repaired, ship_back, cancel. A step the RMA's state does not
    allow — or shipping back before the repair invoice is paid — is a 409 saying why."""
    principal = principal_of(request)
    rma = selectors.rma_get(principal=principal, rma_id=rma_id)
    document = None
    if payload.quote_document is not None:
        try:
            data = base64.b64decode(payload.quote_document.content_base64, validate=True)
        except (ValueError, binascii.Error):
            raise InvalidInput("the quote document is not valid base64") from None
        document = SimpleUploadedFile(payload.quote_document.filename or "quote", data)
    step = services_rma.StepInput(
        carrier=payload.carrier, tracking_number=payload.tracking_number,
        replacement_serial=payload.replacement_serial, quote_amount=payload.quote_amount,
        quote_document=document, note=payload.note,
    )  # fmt: skip
    services_rma.rma_advance(
        principal=principal, rma=rma, action=payload.action, now=clock.now(), step=step
    )
    return rma_out(selectors.rma_get(principal=principal, rma_id=rma_id))

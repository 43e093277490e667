"""API routes for contracts, inventories, entitlement flags and release eligibility (thin)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from supportdesk.accounts.models import User
from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Count, Day, Id, Moment, Percent, Price
from supportdesk.billing import selectors as billing_selectors
from supportdesk.billing import services_counts, services_reinstatement
from supportdesk.contracts import selectors, services, services_admins
from supportdesk.contracts.domain.specs import plan_from_spec, plan_to_spec
from supportdesk.contracts.models import Contract, ContractState, Product
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.customers import selectors as customer_selectors
from supportdesk.tickets import selectors as ticket_selectors

router = Router(tags=["contracts"])


class LineIn(Schema):
    kind: str = Field(description="licence, users or other")
    quantity: Count = 1
    unit_price: Price = Field(description="Licence list price or price per user, e.g. '1200.00'")
    description: str = ""
    product: Id | None = None
    start: Day | None = None
    end: Day | None = Field(default=None, description="Exclusive")
    reactivation_fee: Price | None = Field(
        default=None,
        description="A third-party licence's own fee to reactivate it after a lapse or "
        "suspension; reinstatement adds it (B-6)",
    )


class ContractIn(Schema):
    organization: Id
    plan: Id | str = Field(description="Plan id or slug")
    start: Day
    end: Day | None = Field(default=None, description="Exclusive; default one term")
    state: str = "draft"
    reference: str = Field(default="", max_length=60)
    currency: str | None = None
    predecessor: Id | None = None
    price_percent_override: Percent | None = None
    price_fixed_override: Price | None = None
    lines: list[LineIn] = []
    addons: list[str] = Field(
        default=[], description="Add-ons the plan offers, e.g. softphone_app (E-10)"
    )


class AddonsIn(Schema):
    addons: list[str]


class TransitionIn(Schema):
    to: str
    reason: str = Field(min_length=1, max_length=2000)


class CategoryIn(Schema):
    category: str


class LineOut(Schema):
    kind: str
    description: str
    product: str | None
    quantity: int
    unit_price: Decimal
    start: date | None
    end: date | None
    reactivation_fee: Decimal | None


class ContractEventOut(Schema):
    at: datetime
    from_state: str
    to_state: str
    reason: str
    actor: int | None


class ContractOut(Schema):
    id: int
    reference: str
    organization: int
    plan: str
    plan_kind: str
    start: date
    end: date
    state: str
    currency: str
    predecessor: int | None
    price_percent_override: Decimal | None
    price_fixed_override: Decimal | None
    addons: list[str]
    lines: list[LineOut]
    events: list[ContractEventOut]


def contract_out(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "reference": contract.label,
        "organization": contract.organization_id,
        "plan": contract.plan.slug,
        "plan_kind": contract.plan.kind,
        "start": contract.start,
        "end": contract.end,
        "state": contract.state,
        "currency": contract.currency,
        "predecessor": contract.predecessor_id,
        "price_percent_override": contract.price_percent_override,
        "price_fixed_override": contract.price_fixed_override,
        "addons": list(contract.addons or []),
        "lines": [
            {
                "kind": line.kind,
                "description": line.description,
                "product": line.product.name if line.product else None,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "start": line.start,
                "end": line.end,
                "reactivation_fee": line.reactivation_fee,
            }
            for line in contract.lines.all()
        ],
        "events": [
            {
                "at": e.at,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "reason": e.reason,
                "actor": e.actor_id,
            }
            for e in contract.events.all()
        ],
    }


class ContractQuery(Schema):
    organization: Id | None = None
    state: str | None = None


@router.get("/contracts", response={200: list[ContractOut], **ERRORS})
def list_contracts(request: HttpRequest, query: Query[ContractQuery]) -> Any:
    """Staff see their vendor's contracts; a customer's contacts see their own, read-only."""
    qs = selectors.contract_list(
        principal=principal_of(request), organization_id=query.organization
    )
    if query.state:
        qs = qs.filter(state=query.state)
    return [contract_out(c) for c in qs.prefetch_related("events")]


@router.post("/contracts", response={201: ContractOut, **ERRORS})
def create_contract(request: HttpRequest, payload: ContractIn) -> Any:
    principal = principal_of(request)
    if not principal.is_staff:
        raise Forbidden("only staff may create contracts")
    org = customer_selectors.organization_get(
        principal=principal, organization_id=payload.organization
    )
    plan = selectors.plan_get(principal=principal, plan=payload.plan)
    predecessor = None
    if payload.predecessor is not None:
        predecessor = selectors.contract_get(principal=principal, contract_id=payload.predecessor)
    lines = []
    for i, line in enumerate(payload.lines):
        product = None
        if line.product is not None:
            product = Product.objects.filter(pk=line.product, vendor_id=org.vendor_id).first()
            if product is None:
                raise InvalidInput(f"lines[{i}].product: unknown product {line.product}")
        lines.append(
            services.LineInput(
                kind=line.kind,
                quantity=line.quantity,
                unit_price=line.unit_price,
                description=line.description,
                product=product,
                start=line.start,
                end=line.end,
                reactivation_fee=line.reactivation_fee,
            )
        )
    contract = services.contract_create(
        principal=principal,
        organization=org,
        plan=plan,
        start=payload.start,
        end=payload.end,
        state=payload.state,
        lines=lines,
        reference=payload.reference,
        currency=payload.currency,
        predecessor=predecessor,
        price_percent_override=payload.price_percent_override,
        price_fixed_override=payload.price_fixed_override,
        addons=payload.addons,
        now=clock.now(),
    )
    contract = selectors.contract_get(principal=principal, contract_id=contract.pk)
    return Status(201, contract_out(contract))


@router.put("/contracts/{int:contract_id}/addons", response={200: ContractOut, **ERRORS})
def set_addons(request: HttpRequest, contract_id: int, payload: AddonsIn) -> Any:
    """Switch a contract's add-ons (e.g. the softphone app, seed 002): its entitlement flags
    follow at once (E-10). Staff only."""
    principal = principal_of(request)
    contract = selectors.contract_get(principal=principal, contract_id=contract_id)
    if not principal.is_staff:
        raise Forbidden("only staff may change a contract's add-ons")
    services.contract_addons_set(
        principal=principal, contract=contract, addons=payload.addons, now=clock.now()
    )
    return contract_out(selectors.contract_get(principal=principal, contract_id=contract_id))


@router.get("/contracts/{int:contract_id}", response={200: ContractOut, **ERRORS})
def get_contract(request: HttpRequest, contract_id: int) -> Any:
    return contract_out(
        selectors.contract_get(principal=principal_of(request), contract_id=contract_id)
    )


@router.post("/contracts/{int:contract_id}/transition", response={200: ContractOut, **ERRORS})
def transition_contract(request: HttpRequest, contract_id: int, payload: TransitionIn) -> Any:
    """Move a contract to another state. Activating the prepared (draft) renewal of a lapsed
    term is a reinstatement: it charges the fee exactly as `POST /contracts/{id}/reinstate`
    (B-4, B-6; billing staff)."""
    principal = principal_of(request)
    contract = selectors.contract_get(principal=principal, contract_id=contract_id)
    if selectors.contract_renews_lapsed(contract) and payload.to == ContractState.ACTIVE:
        now = clock.now()
        services_reinstatement.contract_reinstate(
            contract=contract, on=selectors.vendor_today(contract.vendor_id, now), now=now,
            principal=principal,
        )  # fmt: skip
        return contract_out(selectors.contract_get(principal=principal, contract_id=contract_id))
    services.contract_transition(
        principal=principal, contract=contract, to=payload.to, reason=payload.reason,
        now=clock.now(),
    )  # fmt: skip
    return contract_out(selectors.contract_get(principal=principal, contract_id=contract_id))


# --- plans ----------------------------------------------------------------------------------


class PlanBillingOut(Schema):
    billing: str
    renewal_lead_months: int
    annual_discount_percent: Decimal
    payment_terms_days: int
    past_due_clock: str
    reinstatement_after_days: int
    reinstatement_percent: Decimal
    suspend_after_days: int
    suspend_mode: str
    lapse_after_days: int | None
    count_changes: str


class PlanOut(Schema):
    id: int
    slug: str
    name: str
    kind: str
    active: bool
    currency: str
    price_percent_of_list: Decimal
    price_fixed: Decimal
    per_user_price: Decimal | None
    term_months: int
    rules: dict[str, Any]
    billing: PlanBillingOut


def plan_out(plan: Any) -> dict[str, Any]:
    pb = billing_selectors.plan_billing(plan)
    return {
        "id": plan.pk,
        "slug": plan.slug,
        "name": plan.name,
        "kind": plan.kind,
        "active": plan.active,
        "currency": plan.currency,
        "price_percent_of_list": plan.price_percent_of_list,
        "price_fixed": plan.price_fixed,
        "per_user_price": plan.per_user_price,
        "term_months": plan.term_months,
        "rules": plan_to_spec(
            plan_from_spec(
                {**plan.rules, "plan_id": plan.slug, "kind": plan.kind, "name": plan.name}
            ),
            identity=False,
        ),
        "billing": {
            "billing": pb.billing,
            "renewal_lead_months": pb.renewal_lead_months,
            "annual_discount_percent": pb.annual_discount_percent,
            "payment_terms_days": pb.payment_terms_days,
            "past_due_clock": pb.past_due_clock,
            "reinstatement_after_days": pb.reinstatement_after_days,
            "reinstatement_percent": pb.reinstatement_percent,
            "suspend_after_days": pb.suspend_after_days,
            "suspend_mode": pb.suspend_mode,
            "lapse_after_days": pb.lapse_after_days,
            "count_changes": pb.count_changes,
        },
    }


@router.get("/plans", response={200: list[PlanOut], **ERRORS})
def list_plans(request: HttpRequest) -> Any:
    """The vendor's plans with their rules (categories, caps, versions, features, release
    eligibility, E-1 … E-10) and billing settings (B-2 … B-6). Staff see every plan of their
    vendor, a customer's contacts the plans of their own contracts."""
    return [plan_out(p) for p in selectors.plan_list(principal=principal_of(request))]


@router.get("/plans/{plan}", response={200: PlanOut, **ERRORS})
def get_plan(request: HttpRequest, plan: str) -> Any:
    """One plan by id or slug."""
    found = selectors.plan_list(principal=principal_of(request))
    match = found.filter(pk=int(plan)) if plan.isascii() and plan.isdigit() else found.none()
    row = match.first() or found.filter(slug=plan).first()
    if row is None:
        raise NotFound(f"no plan {plan!r}")
    return plan_out(row)


# --- inventory (E-9) -------------------------------------------------------------------------


class InventoryOut(Schema):
    organization: int
    items: dict[str, Any]
    updated_at: datetime | None
    user_count_change: dict[str, Any] | None = Field(
        default=None,
        description="PUT: the change the new count makes to the per-user subscription "
        "(B-5, E-9): proposed for billing staff to confirm, or applied per plan",
    )


class CountedItemOut(Schema):
    type: str
    id: str
    counts: bool
    reason: str
    person: str | None
    billed_as: str | None


class InventoryCountOut(Schema):
    organization: int
    total: int
    items: list[CountedItemOut]


@router.get("/organizations/{int:org_id}/inventory", response={200: InventoryOut, **ERRORS})
def get_inventory(request: HttpRequest, org_id: int) -> Any:
    return selectors.inventory_get(principal=principal_of(request), organization_id=org_id)


@router.put(
    "/organizations/{int:org_id}/inventory",
    response={200: InventoryOut, **ERRORS},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
def put_inventory(request: HttpRequest, org_id: int) -> Any:
    """Replace the inventory: JSON (devices, extensions, people) or CSV with `text/csv`. A new
    user count that differs from what the per-user subscription bills becomes a change
    (`user_count_change`): proposed to billing staff, or applied per plan (B-5, E-9)."""
    principal = principal_of(request)
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    content_type = request.content_type or "application/json"
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the inventory must be UTF-8 text") from None
    if content_type == "text/csv":
        data: Any = text
    elif content_type == "application/json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    else:
        raise InvalidInput(
            f"send the inventory as application/json or text/csv, not {content_type!r}",
            code="unsupported_media_type",
        )
    _, change = services_counts.inventory_replace(
        principal=principal, organization=org, data=data, content_type=content_type,
        now=clock.now(),
    )  # fmt: skip
    out = selectors.inventory_get(principal=principal, organization_id=org_id)
    if change is not None:
        out["user_count_change"] = {
            "id": change.pk, "contract": change.contract_id, "state": change.state,
            "users_before": change.users_before, "users_after": change.users_after,
            "effective_on": change.effective_on,
            "invoice": change.invoice.label if change.invoice else None,
        }  # fmt: skip
    return out


@router.get(
    "/organizations/{int:org_id}/inventory/count", response={200: InventoryCountOut, **ERRORS}
)
def count_inventory(request: HttpRequest, org_id: int) -> Any:
    return selectors.inventory_count(principal=principal_of(request), organization_id=org_id)


# --- entitlement flags (E-10) ----------------------------------------------------------------


@router.get(
    "/organizations/{int:org_id}/entitlements",
    response={200: dict[str, Any], 304: None, **ERRORS},
)
def get_entitlements(request: HttpRequest, org_id: int) -> Any:
    """What the customer is entitled to now; send `If-None-Match` to get a 304 when unchanged."""
    flags, etag = selectors.entitlements_get(
        principal=principal_of(request), organization_id=org_id, now=clock.now()
    )
    header = request.headers.get("If-None-Match", "")
    wanted = [t.strip().removeprefix("W/") for t in header.split(",")]  # weak comparison
    if etag in wanted or "*" in wanted:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(flags, encoder=DjangoJSONEncoder)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


# --- release eligibility (E-7) ---------------------------------------------------------------


class EligibilityOut(Schema):
    release: int
    product: str
    version: str
    name: str
    shipped_on: date
    organization: int
    eligible: bool
    code: str
    reason: str


class EligibilityQuery(Schema):
    organization: Id | None = None


@router.get("/releases/{int:release_id}/eligibility", response={200: EligibilityOut, **ERRORS})
def release_eligibility(
    request: HttpRequest, release_id: int, query: Query[EligibilityQuery]
) -> Any:
    return selectors.release_eligibility(
        principal=principal_of(request), release_id=release_id, organization_id=query.organization,
        now=clock.now(),
    )  # fmt: skip


# --- a ticket's entitlement ------------------------------------------------------------------


@router.get("/tickets/{int:ref}/entitlement", response={200: dict[str, Any], **ERRORS})
def get_ticket_entitlement(request: HttpRequest, ref: int) -> Any:
    ticket = ticket_selectors.ticket_get(principal=principal_of(request), ref=ref)
    out = selectors.ticket_entitlement_out(ticket)
    if out is None:
        raise NotFound(f"ticket {ref} has no entitlement decision")
    return out


@router.put("/tickets/{int:ref}/entitlement", response={200: dict[str, Any], **ERRORS})
def set_ticket_category(request: HttpRequest, ref: int, payload: CategoryIn) -> Any:
    """Set the request category (e.g. api_developer, installation) and decide again."""
    principal = principal_of(request)
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    if principal.is_contact:
        raise Forbidden("customers cannot change a ticket's category")
    services.ticket_category_set(
        principal=principal, ticket=ticket, category=payload.category, now=clock.now()
    )
    # Read back afresh: `ticket` carries the decision joined before it was taken again.
    return selectors.ticket_entitlement_out(
        ticket_selectors.ticket_get(principal=principal, ref=ref)
    )


# --- time entries (B-7, E-5) and administrators' notes and calls (E-3) ------------------------


class TimeEntryIn(Schema):
    started_at: Moment
    ended_at: Moment | None = None
    minutes: int | None = None  # checked by the service before any date arithmetic
    work_kind: str = Field(description="phone, email, remote, on_site or monitoring")
    category: str = "problem"
    billable: bool = True
    note: str = ""
    engineer: Id | None = Field(default=None, description="Staff user id; default: the caller")


class TimeEntryOut(Schema):
    id: int
    ticket: int
    engineer: int
    started_at: datetime
    ended_at: datetime
    minutes: int
    work_kind: str
    category: str
    billable: bool
    note: str


def _time_out(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "ticket": entry.ticket_id,
        "engineer": entry.engineer_id,
        "started_at": entry.started_at,
        "ended_at": entry.ended_at,
        "minutes": entry.minutes,
        "work_kind": entry.work_kind,
        "category": entry.category,
        "billable": entry.billable,
        "note": entry.note,
    }


@router.get("/tickets/{int:ref}/time-entries", response={200: list[TimeEntryOut], **ERRORS})
def list_time_entries(request: HttpRequest, ref: int) -> Any:
    principal = principal_of(request)
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    if principal.is_contact:
        raise Forbidden("time entries are for staff")
    return [_time_out(e) for e in ticket.time_entries.order_by("started_at", "pk")]


@router.post("/tickets/{int:ref}/time-entries", response={201: TimeEntryOut, **ERRORS})
def add_time_entry(request: HttpRequest, ref: int, payload: TimeEntryIn) -> Any:
    principal = principal_of(request)
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    if principal.is_contact:
        raise Forbidden("time entries are for staff")
    engineer = User.objects.filter(
        pk=payload.engineer or principal.user_id, vendor_id=ticket.vendor_id, is_staff=True
    ).first()
    if engineer is None:
        raise InvalidInput(f"unknown staff user {payload.engineer}")
    entry = services.time_entry_add(
        principal=principal,
        ticket=ticket,
        engineer=engineer,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        minutes=payload.minutes,
        work_kind=payload.work_kind,
        category=payload.category,
        billable=payload.billable,
        note=payload.note,
        now=clock.now(),
    )
    return Status(201, _time_out(entry))


class ServiceNoteIn(Schema):
    subject: str = Field(min_length=1, max_length=250)
    body: str = Field(min_length=1)


class StatusCallIn(Schema):
    subject: str = Field(min_length=1, max_length=200)
    starts_at: Moment
    minutes: int = Field(default=30, ge=1, le=24 * 60)
    details: str = ""


class SentOut(Schema):
    recipients: list[str]


@router.post("/organizations/{int:org_id}/service-notes", response={202: SentOut, **ERRORS})
def send_service_note(request: HttpRequest, org_id: int, payload: ServiceNoteIn) -> Any:
    """E-3: email a proactive service note to every designated administrator."""
    principal = principal_of(request)
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    rows = services_admins.service_note_send(
        principal=principal, organization=org, subject=payload.subject, body=payload.body,
        now=clock.now(),
    )  # fmt: skip
    return Status(202, {"recipients": [r.recipient for r in rows]})


@router.post("/organizations/{int:org_id}/status-calls", response={202: SentOut, **ERRORS})
def invite_status_call(request: HttpRequest, org_id: int, payload: StatusCallIn) -> Any:
    """E-3: invite every designated administrator to a status call (iCalendar invitation)."""
    principal = principal_of(request)
    org = customer_selectors.organization_get(principal=principal, organization_id=org_id)
    rows = services_admins.status_call_invite(
        principal=principal, organization=org, subject=payload.subject,
        starts_at=payload.starts_at, minutes=payload.minutes, details=payload.details,
        now=clock.now(),
    )  # fmt: skip
    return Status(202, {"recipients": [r.recipient for r in rows]})

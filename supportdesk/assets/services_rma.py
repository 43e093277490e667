"""RMA writes (H-2, H-3): start one from a ticket, move it through the workflow of
``domain.rma``, and the deadline sweep (return overdue, lead time).

Every step locks the RMA, asks the pure state machine, writes an append-only ``RmaEvent`` and a
ticket event in the same transaction (rules 8, 13). Charges — the repair the manufacturer
quoted, a defective unit never returned — are one-off invoices issued through
``billing.services.one_off_charge_create`` with a line saying what they are for (B-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from supportdesk.assets.domain import rma as flow
from supportdesk.assets.domain.warranty import ContractTerm, standing
from supportdesk.assets.models import (
    Asset,
    AssetStatus,
    Rma,
    RmaCounter,
    RmaEvent,
    RmaKind,
    RmaPolicy,
    TicketAsset,
)
from supportdesk.assets.services import _price
from supportdesk.billing.models import InvoiceState
from supportdesk.billing.services import one_off_charge_create
from supportdesk.contracts.selectors import vendor_today
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import AgentNotificationKind, Ticket, TicketEventKind
from supportdesk.tickets.notify import agent_notify

MAX_QUOTE_BYTES = 10 * 1024 * 1024
# What a customer's contact may do on its own organisation's RMA: decide on the quote.
CUSTOMER_ACTIONS = frozenset({flow.Action.APPROVE, flow.Action.DECLINE})


def _term(asset: Asset) -> ContractTerm | None:
    c = asset.contract
    return None if c is None else ContractTerm(state=c.state, start=c.start, end=c.end)


def asset_standing(*, asset: Asset, now: datetime) -> Any:
    """Warranty and contract standing of a device today (H-1): shown on the ticket page."""
    return standing(asset.warranty_ends_on, _term(asset), vendor_today(asset.vendor_id, now))


def _clock(rma: Rma) -> flow.Clock:
    return flow.Clock(
        kind=flow.Kind(rma.kind),
        state=flow.State(rma.state),
        started_at=rma.started_at,
        due_at=rma.due_at,
        warned=rma.warned_at is not None,
        breached=rma.breached_at is not None,
        bill_after=None if rma.bill_after_days is None else timedelta(days=rma.bill_after_days),
    )


def _event(rma: Rma, kind: str, now: datetime, actor_id: int | None, **data: Any) -> None:
    RmaEvent.objects.create(
        rma=rma, at=now, actor_id=actor_id, kind=kind,
        from_state=data.pop("from_state", ""), to_state=data.pop("to_state", ""), data=data,
    )  # fmt: skip


def _next_number(vendor_id: int) -> int:
    """Sequenced per vendor like invoice numbers; the counter row is locked."""
    RmaCounter.objects.get_or_create(vendor_id=vendor_id)
    counter = RmaCounter.objects.select_for_update().get(vendor_id=vendor_id)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


@transaction.atomic
def rma_start(
    *, principal: Principal, ticket: Ticket, asset: Asset, kind: str, now: datetime
) -> Rma:
    """Open an RMA for the ticket's device. An advance exchange (H-2) needs the device in
    warranty or covered by a contract in force; its return terms come from the covering
    contract's plan (``RmaPolicy``, else the defaults) and are snapshotted (rule 9). A return
    to factory (H-3) snapshots the model's promised lead time."""
    require_staff_of(principal, ticket.vendor_id)
    if kind not in RmaKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(RmaKind.values)}")
    if asset.organization_id != ticket.organization_id:
        raise InvalidInput("the device belongs to another organisation than the ticket")
    if asset.rmas.exclude(state__in=[s.value for s in flow.FINAL]).exists():
        raise Conflict(f"{asset} has an open RMA already", code="open_rma")
    values: dict[str, Any] = {}
    if kind == RmaKind.ADVANCE_EXCHANGE:
        stand = asset_standing(asset=asset, now=now)
        if not stand.exchange_allowed:
            raise Conflict(stand.exchange_refusal(), code="not_eligible")
        policy = (
            RmaPolicy.objects.filter(plan_id=asset.contract.plan_id).first()
            if asset.contract is not None
            else None
        ) or RmaPolicy()
        values = {
            "return_days": policy.return_days,
            "bill_after_days": policy.bill_after_days if policy.bill_unreturned else None,
            "unit_price": asset.model.unit_price,
            "currency": asset.model.currency,
        }
    else:
        values = {"lead_days": asset.model.repair_lead_days, "currency": asset.model.currency}
    rma = Rma.objects.create(
        vendor_id=ticket.vendor_id,
        organization_id=ticket.organization_id,
        number=_next_number(ticket.vendor_id),
        asset=asset,
        ticket=ticket,
        kind=kind,
        state=flow.INITIAL[flow.Kind(kind)].value,
        defective_serial=asset.serial,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
        **values,
    )
    TicketAsset.objects.update_or_create(ticket=ticket, defaults={"asset": asset, "linked_at": now})
    _event(rma, "started", now, principal.user_id, to_state=rma.state, rma_kind=kind)
    ticket_event_record(
        ticket_id=ticket.pk, kind=TicketEventKind.RMA_STARTED, at=now, actor_id=principal.user_id,
        data={"rma": rma.pk, "number": rma.label, "kind": kind, "serial": asset.serial},
    )  # fmt: skip
    return rma


@dataclass(frozen=True)
class StepInput:
    """What some actions need: a shipment (carrier + tracking), the replacement's serial, the
    manufacturer's quote (amount + document)."""

    carrier: str = ""
    tracking_number: str = ""
    replacement_serial: str = ""
    quote_amount: Decimal | str | None = None
    quote_document: UploadedFile | None = None
    note: str = ""


def _facts(rma: Rma) -> flow.Facts:
    invoice = rma.invoice
    if invoice is None:
        return flow.Facts()
    invoice.refresh_from_db()
    # A voided repair invoice is a charge taken back: nothing is left to pay.
    return flow.Facts(
        invoice_label=invoice.label,
        invoice_paid=invoice.state in (InvoiceState.PAID, InvoiceState.VOID),
    )


def _shipment(rma: Rma, step: StepInput) -> dict[str, Any]:
    carrier, tracking = step.carrier.strip(), step.tracking_number.strip()
    if not carrier or not tracking:
        raise InvalidInput("a shipment needs a carrier and a tracking number")
    rma.carrier, rma.tracking_number = carrier[:60], tracking[:120]
    return {"carrier": rma.carrier, "tracking_number": rma.tracking_number}


def _swap_serial(rma: Rma, step: StepInput) -> dict[str, Any]:
    """H-2: the replacement ships first; the asset record now carries its serial."""
    serial = step.replacement_serial.strip()
    if not serial:
        raise InvalidInput("give the replacement unit's serial number")
    asset = Asset.objects.select_for_update().get(pk=rma.asset_id)
    if serial == asset.serial:
        raise InvalidInput("the replacement's serial is the defective unit's")
    if Asset.objects.filter(model_id=asset.model_id, serial=serial).exists():
        raise Conflict(f"{asset.model} #{serial} is another device already", code="duplicate")
    rma.replacement_serial = serial
    asset.serial = serial
    asset.status = AssetStatus.IN_SERVICE
    asset.save(update_fields=["serial", "status"])
    return {"replacement_serial": serial, "defective_serial": rma.defective_serial}


def _quote(rma: Rma, step: StepInput) -> dict[str, Any]:
    amount = _price(step.quote_amount, "the quoted amount")
    if amount is None:
        raise InvalidInput("a repair quote needs the amount the manufacturer quoted (0 if none)")
    document = step.quote_document
    if document is not None:
        if document.size is not None and document.size > MAX_QUOTE_BYTES:
            raise InvalidInput("the quote document is larger than 10 MB")
        rma.quote_document.save(document.name or "quote", document, save=False)
    rma.quote_amount = amount
    return {"amount": str(amount), "currency": rma.currency, "document": rma.quote_document.name}


def _bill_repair(rma: Rma, now: datetime) -> dict[str, Any]:
    """H-3: the approved repair charge becomes an invoice line saying what it is for."""
    if not rma.quote_amount:
        return {"invoice": None}
    asset = rma.asset
    invoice = one_off_charge_create(
        organization=rma.organization,
        description=(
            f"Repair of {asset.model} serial {rma.defective_serial} by {asset.model.manufacturer}"
            f", {rma.label}"
        ),
        unit_price=rma.quote_amount,
        currency=rma.currency,
        reason=f"{rma.label}: repair quote approved",
        issue_date=vendor_today(rma.vendor_id, now),
        now=now,
        contract=asset.contract,
    )
    rma.invoice = invoice
    return {"invoice": invoice.label}


def _clock_start(rma: Rma, now: datetime) -> None:
    days = rma.return_days if rma.kind == RmaKind.ADVANCE_EXCHANGE else rma.lead_days
    rma.started_at = now
    rma.due_at = now + timedelta(days=days or 0)


@transaction.atomic
def rma_advance(
    *, principal: Principal, rma: Rma, action: str, now: datetime, step: StepInput | None = None
) -> Rma:
    """Apply one workflow action. Locks the RMA. Staff do every step; a contact of the
    customer may approve or decline its own organisation's quote. A refused action raises
    ``Conflict`` with the state machine's message (e.g. an unpaid repair invoice)."""
    step = step or StepInput()
    locked = (
        Rma.objects.select_for_update(of=("self",))
        .select_related("asset__model", "asset__contract", "organization", "invoice")
        .get(pk=rma.pk)
    )
    if principal.is_contact:
        if principal.organization_id != locked.organization_id:
            raise NotFound(f"RMA {rma.pk} not found")
        if action not in CUSTOMER_ACTIONS:
            raise Forbidden("only the vendor's staff may do this step")
    else:
        require_staff_of(principal, locked.vendor_id)
    try:
        target = flow.next_state(locked.kind, locked.state, action, _facts(locked))
    except flow.RmaRefused as refused:
        raise Conflict(str(refused), code="illegal_transition") from None
    act = flow.Action(action)
    before = locked.state
    data: dict[str, Any] = {}
    if act is flow.Action.SHIP_REPLACEMENT:
        data = {**_shipment(locked, step), **_swap_serial(locked, step)}
        _clock_start(locked, now)
        data["return_due"] = locked.due_at.isoformat() if locked.due_at else None
    elif act is flow.Action.RECEIVE:
        _clock_start(locked, now)
        Asset.objects.filter(pk=locked.asset_id).update(status=AssetStatus.IN_REPAIR)
        data["lead_due"] = locked.due_at.isoformat() if locked.due_at else None
    elif act is flow.Action.QUOTE:
        data = _quote(locked, step)
    elif act is flow.Action.APPROVE:
        data = _bill_repair(locked, now)
    elif act is flow.Action.SHIP_BACK:
        data = _shipment(locked, step)
        Asset.objects.filter(pk=locked.asset_id).update(status=AssetStatus.IN_SERVICE)
    elif act is flow.Action.RECEIVE_DEFECTIVE:
        data = {"serial": locked.defective_serial}
    if step.note.strip():
        data["note"] = step.note.strip()[:500]
    locked.state = target.value
    locked.next_deadline = flow.next_deadline(_clock(locked))
    locked.updated_at = now
    locked.save()
    _event(locked, act.value, now, principal.user_id, from_state=before, to_state=target, **data)
    ticket_event_record(
        ticket_id=locked.ticket_id, kind=TicketEventKind.RMA_STEP, at=now,
        actor_id=principal.user_id,
        data={"rma": locked.pk, "number": locked.label, "action": act.value, "from": before,
              "to": target.value, **data},
    )  # fmt: skip
    return locked


# --- the sweep -------------------------------------------------------------------------------


def _warn(rma: Rma, text: str, now: datetime) -> None:
    ticket = rma.ticket
    people = [u for u in (ticket.assignee, rma.created_by) if u is not None]
    agent_notify(ticket=ticket, kind=AgentNotificationKind.RMA, users=people, text=text, now=now)


def _bill_unit(rma: Rma, now: datetime) -> dict[str, Any]:
    """H-2: the defective unit did not come back — bill its price, per plan."""
    if not rma.unit_price:
        return {"invoice": None, "why": f"{rma.asset.model} has no unit price to bill"}
    invoice = one_off_charge_create(
        organization=rma.organization,
        description=(
            f"{rma.asset.model} serial {rma.defective_serial} not returned after advance "
            f"exchange {rma.label}"
        ),
        unit_price=rma.unit_price,
        currency=rma.currency,
        reason=f"{rma.label}: defective unit not returned by {rma.due_at:%Y-%m-%d}",
        issue_date=vendor_today(rma.vendor_id, now),
        now=now,
        contract=rma.asset.contract,
    )
    rma.invoice = invoice
    return {"invoice": invoice.label}


@transaction.atomic
def _sweep_one(rma_id: int, now: datetime) -> list[str]:
    rma = (
        Rma.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("ticket__assignee", "created_by", "asset__model", "asset__contract")
        .filter(pk=rma_id)
        .first()
    )
    if rma is None:
        return []
    done: list[str] = []
    for due in flow.deadline_due(_clock(rma), now):
        text, data = "", {}
        if due is flow.Deadline.LEAD_WARNING:
            rma.warned_at = now
            text = f"{rma.label}: repair lead time ends {rma.due_at:%Y-%m-%d %H:%M} UTC"
        elif due is flow.Deadline.LEAD_BREACH:
            rma.breached_at = now
            text = f"{rma.label}: promised repair lead time of {rma.lead_days} days breached"
        elif due is flow.Deadline.RETURN_OVERDUE:
            rma.warned_at = now
            text = (
                f"{rma.label}: defective unit {rma.defective_serial} was due back "
                f"{rma.due_at:%Y-%m-%d}"
            )
        else:  # RETURN_BILL
            data = _bill_unit(rma, now)
            if data["invoice"] is not None:
                rma.state = flow.State.UNIT_BILLED.value
                text = f"{rma.label}: defective unit not returned, billed on {data['invoice']}"
            else:
                rma.bill_after_days = None  # nothing to bill: stop asking
                text = f"{rma.label}: defective unit not returned; {data['why']}"
        _warn(rma, text, now)
        _event(rma, due.value, now, None, **data, text=text)
        breach = due in (flow.Deadline.LEAD_BREACH, flow.Deadline.RETURN_BILL)
        ticket_event_record(
            ticket_id=rma.ticket_id, at=now,
            kind=TicketEventKind.RMA_DEADLINE_BREACHED if breach
            else TicketEventKind.RMA_DEADLINE_WARNING,
            data={"rma": rma.pk, "number": rma.label, "deadline": due.value, "text": text, **data},
        )  # fmt: skip
        done.append(due.value)
    rma.next_deadline = flow.next_deadline(_clock(rma))
    rma.updated_at = now
    rma.save()
    return done


def rma_sweep(*, now: datetime) -> dict[str, int]:
    """The periodic deadline sweep: every RMA whose indexed ``next_deadline`` has passed.
    Each RMA in its own transaction, locked and re-checked; running it twice does nothing more."""
    counts: dict[str, int] = {}
    ids = list(
        Rma.objects.filter(next_deadline__lte=now)
        .order_by("next_deadline")
        .values_list("pk", flat=True)[:1000]
    )
    for rma_id in ids:
        for what in _sweep_one(rma_id, now):
            counts[what] = counts.get(what, 0) + 1
    return counts

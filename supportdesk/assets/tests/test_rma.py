"""RMAs on a database (H-2, H-3): the done-when rules of issue 13, through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from supportdesk.assets import selectors, services, services_rma
from supportdesk.assets.models import AssetStatus, RmaEvent, RmaPolicy
from supportdesk.assets.services_rma import StepInput
from supportdesk.assets.tests.factories import make_asset, make_model
from supportdesk.billing.models import InvoiceState
from supportdesk.billing.services import payment_record
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.errors import Conflict, Forbidden, NotFound
from supportdesk.core.tenancy import principal_for
from supportdesk.tickets.models import AgentNotification, TicketEvent
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def staff(world: Any) -> Any:
    return principal_for(world.agent)


def start(world: Any, asset: Any, kind: str, now: Any = NOW) -> Any:
    ticket = make_ticket(world, world.gina if asset.organization_id == world.globex.pk else None)
    return services_rma.rma_start(
        principal=staff(world), ticket=ticket, asset=asset, kind=kind, now=now
    )


def advance(world: Any, rma: Any, action: str, now: Any = NOW, **step: Any) -> Any:
    return services_rma.rma_advance(
        principal=staff(world), rma=rma, action=action, now=now, step=StepInput(**step)
    )


def test_warranty_end_follows_purchase_and_model_H1(world: Any) -> None:
    model = make_model(world.acme, name="M-18", warranty_months=18)
    asset = make_asset(world.acme, model=model, purchased_on=NOW.date().replace(day=31, month=1))
    assert asset.warranty_ends_on == NOW.date().replace(year=2027, month=7, day=31)
    services.asset_update(principal=staff(world), asset=asset, purchased_on=None)
    asset.refresh_from_db()
    assert asset.warranty_ends_on is None
    with pytest.raises(Conflict):
        make_asset(world.acme, serial=make_asset(world.acme).serial)


def test_advance_exchange_refused_out_of_warranty_H2(world: Any) -> None:
    old = make_asset(world.acme, in_warranty=False)
    with pytest.raises(Conflict, match="advance exchange needs a unit in warranty"):
        start(world, old, "advance_exchange")
    # ... allowed once a contract in force covers it
    services.asset_update(principal=staff(world), asset=old, contract=make_contract(world.acme))
    rma = start(world, old, "advance_exchange")
    assert rma.state == "open" and rma.label.startswith("RMA-")


def test_advance_exchange_swaps_serials_and_records_events_H2(world: Any) -> None:
    asset = make_asset(world.acme)
    rma = start(world, asset, "advance_exchange")
    with pytest.raises(Conflict, match="cannot receive_defective"):
        advance(world, rma, "receive_defective")
    with pytest.raises(Exception, match="carrier and a tracking number"):
        advance(world, rma, "ship_replacement", replacement_serial="NEW-1")
    rma = advance(
        world, rma, "ship_replacement", carrier="UPS", tracking_number="1Z999",
        replacement_serial="NEW-1",
    )  # fmt: skip
    asset.refresh_from_db()
    assert asset.serial == "NEW-1" and rma.defective_serial != "NEW-1"
    assert rma.due_at == NOW + timedelta(days=10)  # the default return days
    assert rma.invoice is None  # the replacement ships at no charge
    rma = advance(world, rma, "receive_defective", NOW + timedelta(days=3))
    assert rma.state == "returned" and rma.next_deadline is None
    kinds = list(TicketEvent.objects.filter(ticket=rma.ticket).values_list("kind", flat=True))
    assert kinds.count("rma_step") == 2 and "rma_started" in kinds
    assert RmaEvent.objects.filter(rma=rma).count() == 3


def test_overdue_return_warns_the_agent_then_bills_the_unit_H2(world: Any) -> None:
    contract = make_contract(world.acme)
    RmaPolicy.objects.create(plan=contract.plan, return_days=5, bill_after_days=3)
    asset = make_asset(world.acme, contract=contract)
    rma = start(world, asset, "advance_exchange")
    advance(world, rma, "ship_replacement", carrier="DHL", tracking_number="JD1",
            replacement_serial="NEW-2")  # fmt: skip
    due = NOW + timedelta(days=5)
    assert services_rma.rma_sweep(now=due - timedelta(minutes=1)) == {}
    assert services_rma.rma_sweep(now=due) == {"return_overdue": 1}
    assert services_rma.rma_sweep(now=due) == {}  # once
    note = AgentNotification.objects.get(user=world.agent, kind="rma")
    assert "was due back" in note.text
    rma.refresh_from_db()
    assert rma.state == "replacement_shipped" and rma.invoice is None
    assert services_rma.rma_sweep(now=due + timedelta(days=3)) == {"return_bill": 1}
    rma.refresh_from_db()
    assert rma.state == "unit_billed" and rma.next_deadline is None
    line = rma.invoice.lines.get()
    assert rma.invoice.total == Decimal("450.00") and rma.invoice.state == InvoiceState.ISSUED
    assert "not returned after advance exchange " + rma.label in line.description
    assert TicketEvent.objects.filter(ticket=rma.ticket, kind="rma_deadline_breached").exists()


def test_plan_that_does_not_bill_only_warns_H2(world: Any) -> None:
    contract = make_contract(world.acme)
    RmaPolicy.objects.create(plan=contract.plan, return_days=5, bill_unreturned=False)
    rma = start(world, make_asset(world.acme, contract=contract), "advance_exchange")
    advance(world, rma, "ship_replacement", carrier="DHL", tracking_number="JD2",
            replacement_serial="NEW-3")  # fmt: skip
    assert services_rma.rma_sweep(now=NOW + timedelta(days=60)) == {"return_overdue": 1}
    rma.refresh_from_db()
    assert rma.invoice is None and rma.next_deadline is None


def factory_to_repaired(world: Any, amount: str = "180.00") -> Any:
    asset = make_asset(world.acme, in_warranty=False)
    rma = start(world, asset, "return_to_factory")
    rma = advance(world, rma, "receive")
    assert rma.due_at == NOW + timedelta(days=14)
    asset.refresh_from_db()
    assert asset.status == AssetStatus.IN_REPAIR
    rma = advance(world, rma, "send_to_manufacturer")
    quote = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
    rma = advance(world, rma, "quote", quote_amount=amount, quote_document=quote)
    assert rma.quote_document.name.endswith(".pdf")
    rma = services_rma.rma_advance(
        principal=principal_for(world.alice.user), rma=rma, action="approve", now=NOW
    )
    return advance(world, rma, "mark_repaired")


def test_return_to_factory_cannot_ship_back_unpaid_and_can_once_paid_H3(world: Any) -> None:
    rma = factory_to_repaired(world)
    invoice = rma.invoice
    assert invoice.total == Decimal("180.00")
    assert f"Repair of Brooktrout FX-200 serial {rma.defective_serial}" in (
        invoice.lines.get().description
    )
    with pytest.raises(Conflict, match=f"payment of invoice {invoice.label} is required"):
        advance(world, rma, "ship_back", carrier="UPS", tracking_number="1Z1")
    payment_record(
        organization=world.acme, amount="180.00", currency="USD", received_on=NOW.date(), now=NOW
    )
    rma = advance(world, rma, "ship_back", carrier="UPS", tracking_number="1Z1")
    assert rma.state == "shipped_back"
    rma.asset.refresh_from_db()
    assert rma.asset.status == AssetStatus.IN_SERVICE


def test_free_repair_needs_no_invoice_H3(world: Any) -> None:
    rma = factory_to_repaired(world, amount="0")
    assert rma.invoice is None
    assert advance(world, rma, "ship_back", carrier="UPS", tracking_number="1Z2").state == (
        "shipped_back"
    )


def test_lead_time_warning_then_breach_recorded_H3(world: Any) -> None:
    rma = start(world, make_asset(world.acme), "return_to_factory")
    rma = advance(world, rma, "receive")
    assert services_rma.rma_sweep(now=NOW + timedelta(days=10)) == {}
    assert services_rma.rma_sweep(now=NOW + timedelta(days=11)) == {"lead_warning": 1}
    assert services_rma.rma_sweep(now=NOW + timedelta(days=14)) == {"lead_breach": 1}
    assert services_rma.rma_sweep(now=NOW + timedelta(days=20)) == {}
    rma.refresh_from_db()
    assert rma.breached_at == NOW + timedelta(days=14) and rma.next_deadline is None
    breach = TicketEvent.objects.get(ticket=rma.ticket, kind="rma_deadline_breached")
    assert breach.data["deadline"] == "lead_breach"


def test_customers_decide_quotes_only_and_only_their_own(world: Any) -> None:
    rma = start(world, make_asset(world.acme), "return_to_factory")
    with pytest.raises(Forbidden):
        services_rma.rma_advance(
            principal=principal_for(world.alice.user), rma=rma, action="receive", now=NOW
        )
    with pytest.raises(NotFound):
        services_rma.rma_advance(
            principal=principal_for(world.gina.user), rma=rma, action="approve", now=NOW
        )
    with pytest.raises(NotFound):
        selectors.rma_get(principal=principal_for(world.gina.user), rma_id=rma.pk)
    assert selectors.rma_get(principal=principal_for(world.alice.user), rma_id=rma.pk) == rma


def test_rma_numbers_are_sequenced_per_vendor(world: Any) -> None:
    one = start(world, make_asset(world.acme), "return_to_factory")
    two = start(world, make_asset(world.globex), "return_to_factory")
    assert two.number == one.number + 1
    with pytest.raises(Conflict, match="open RMA already"):
        start(world, one.asset, "return_to_factory")

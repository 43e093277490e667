"""Django-level billing: numbering, immutability, payments, the billing run (B-1..B-9)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from supportdesk.billing import runs, services, services_reinstatement
from supportdesk.billing.domain.lines import LineKind, PriceLine
from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import (
    BillingRunKey,
    ImmutableInvoiceError,
    Invoice,
    InvoiceLine,
    InvoiceState,
    PlanBilling,
    RateCard,
)
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, Product
from supportdesk.contracts.tests.django_helpers import make_contract, make_plan
from supportdesk.core.errors import Conflict

pytestmark = pytest.mark.django_db

RUN_DAY = date(2026, 2, 1)
NOW = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def enterprise(world: Any, *, start: date = RUN_DAY, org: Any = None) -> Contract:
    server = Product.objects.create(vendor=world.vendor, name=f"Server {start}")
    connectors = Product.objects.create(vendor=world.vendor, name=f"Connectors {start}")
    return make_contract(
        org or world.acme,
        "enterprise",
        start=start,
        lines=(
            contract_services.LineInput(kind="licence", quantity=1, unit_price="100000.00",
                                        description="AccuRoute server", product=server),
            contract_services.LineInput(kind="licence", quantity=1, unit_price="40000.00",
                                        description="AccuRoute connectors", product=connectors),
        ),
    )  # fmt: skip


def one_line_draft(world: Any, amount: str = "10.00", org: Any = None) -> Invoice:
    money = Money(Decimal(amount), "USD")
    line = PriceLine("Test service", Decimal(1), money, money, None, None, LineKind.SUPPORT_FIXED)
    return services.invoice_draft_create(
        vendor=world.vendor,
        organization=org or world.acme,
        currency="USD",
        lines=[services.LineInput(line)],
        now=NOW,
    )


def test_enterprise_renewal_price_67000_B2_B3(world: Any) -> None:
    contract = enterprise(world)
    summary = runs.billing_run(today=RUN_DAY, now=NOW)
    assert summary.counts["invoices"] == 1
    inv = Invoice.objects.get(contract=contract)
    assert inv.state == InvoiceState.ISSUED and inv.number == 1
    assert inv.total == Decimal("67000.00")
    kinds = list(inv.lines.values_list("kind", "amount"))
    assert kinds == [("support_percent", Decimal("42000.00")), ("support_fixed", Decimal("25000"))]
    assert all(line.contract_id == contract.pk for line in inv.lines.all())


def test_renewal_issued_lead_months_before_expiry_B3(world: Any) -> None:
    contract = enterprise(world, start=date(2025, 4, 1))
    runs.billing_run(today=date(2025, 4, 1), now=NOW)  # the first term
    assert Invoice.objects.filter(contract=contract).count() == 1
    services.payment_record(
        organization=world.acme, amount=Decimal("67000.00"), currency="USD",
        received_on=date(2025, 4, 2), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2026, 1, 31), now=NOW)  # lead 2 months: due on 2026-02-01
    assert Invoice.objects.filter(contract=contract).count() == 1
    summary = runs.billing_run(today=date(2026, 2, 1), now=NOW)
    assert summary.counts["renewals"] == 1
    # the renewal signs the next term, so entitlement carries on at expiry
    term = Contract.objects.get(predecessor=contract)
    assert (term.start, term.end, term.state) == (date(2026, 4, 1), date(2027, 4, 1), "active")
    assert [(x.kind, x.quantity, x.unit_price) for x in term.lines.all()] == [
        (x.kind, x.quantity, x.unit_price) for x in contract.lines.all()
    ]
    renewal = Invoice.objects.get(contract=term)
    assert renewal.issue_date == date(2026, 2, 1) and renewal.total == Decimal("67000.00")
    assert {line.period_start for line in renewal.lines.all()} == {date(2026, 4, 1)}
    assert {line.contract_id for line in renewal.lines.all()} == {term.pk}
    again = runs.billing_run(today=date(2026, 2, 2), now=NOW)
    assert again.counts.get("renewals", 0) == 0 and Contract.objects.count() == 2


def test_running_twice_issues_nothing_twice_B9(world: Any) -> None:
    enterprise(world)
    first = runs.billing_run(today=RUN_DAY, now=NOW)
    second = runs.billing_run(today=RUN_DAY, now=NOW)
    assert first.counts["invoices"] == 1
    assert second.counts.get("invoices", 0) == 0
    assert Invoice.objects.count() == 1
    assert BillingRunKey.objects.filter(purpose="invoice").count() == 1


def test_dry_run_writes_nothing_B9(world: Any) -> None:
    enterprise(world)
    summary = runs.billing_run(today=RUN_DAY, now=NOW, dry_run=True)
    assert summary.counts["invoices"] == 1
    assert Invoice.objects.count() == 0 and BillingRunKey.objects.count() == 0


def test_numbers_are_gap_free_per_vendor_and_drafts_unnumbered_B1(world: Any) -> None:
    drafts = [one_line_draft(world) for _ in range(3)]
    assert all(d.number is None for d in drafts)
    rival_draft = one_line_draft(world, org=world.rival_org) if False else None
    assert rival_draft is None
    numbers = [
        services.invoice_issue(invoice=d, issue_date=RUN_DAY, now=NOW).number for d in drafts
    ]
    assert numbers == [1, 2, 3]
    with pytest.raises(Conflict):
        services.invoice_issue(invoice=drafts[0], issue_date=RUN_DAY, now=NOW)


def test_issued_invoice_is_immutable_B1(world: Any) -> None:
    inv = services.invoice_issue(invoice=one_line_draft(world), issue_date=RUN_DAY, now=NOW)
    inv.total = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        inv.save()
    line = inv.lines.first()
    line.amount = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        line.save()
    with pytest.raises(ImmutableInvoiceError):
        inv.delete()
    inv.refresh_from_db()
    assert inv.total == Decimal("10.00")


def test_credit_note_corrects_an_issued_invoice_B1(world: Any) -> None:
    inv = services.invoice_issue(
        invoice=one_line_draft(world, "100.00"), issue_date=RUN_DAY, now=NOW
    )
    note = services.credit_note_create(
        invoice=inv, reason="overcharged", amount=Decimal("40.00"), issue_date=RUN_DAY, now=NOW
    )
    assert note.number == 2 and note.total == Decimal("-40.00")
    inv.refresh_from_db()
    assert inv.balance == Decimal("60.00") and inv.state == InvoiceState.ISSUED


def test_void_only_unpaid(world: Any) -> None:
    inv = services.invoice_issue(invoice=one_line_draft(world), issue_date=RUN_DAY, now=NOW)
    services.invoice_void(invoice=inv, reason="duplicate", now=NOW)
    inv.refresh_from_db()
    assert inv.state == InvoiceState.VOID and inv.number == 1


def test_partial_payments_allocate_oldest_first(world: Any) -> None:
    a = services.invoice_issue(invoice=one_line_draft(world, "100.00"), issue_date=RUN_DAY, now=NOW)
    b = services.invoice_issue(invoice=one_line_draft(world, "50.00"), issue_date=RUN_DAY, now=NOW)
    result = services.payment_record(
        organization=world.acme, amount=Decimal("120.00"), currency="USD",
        received_on=RUN_DAY, now=NOW, reference="wire 1",
    )  # fmt: skip
    assert [amt for _, amt in result.allocations] == [Decimal("100.00"), Decimal("20.00")]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.state == InvoiceState.PAID and b.balance == Decimal("30.00")
    services.payment_record(
        organization=world.acme, amount=Decimal("40.00"), currency="USD",
        received_on=RUN_DAY, now=NOW,
    )  # fmt: skip
    b.refresh_from_db()
    assert b.state == InvoiceState.PAID
    assert result.payment.unapplied == 0


def test_dunning_fee_is_charged_when_payment_reinstates_not_by_the_run_B4(world: Any) -> None:
    contract = enterprise(world, start=date(2025, 4, 1))
    runs.billing_run(today=date(2025, 4, 1), now=NOW)
    first = Invoice.objects.get(contract=contract)
    services.payment_record(
        organization=world.acme, amount=first.total, currency="USD",
        received_on=date(2025, 4, 5), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2026, 2, 1), now=NOW)  # renewal, due 2026-03-03
    term = Contract.objects.get(predecessor=contract)
    renewal = Invoice.objects.filter(contract=term, state="issued").get()
    assert renewal.due_date == date(2026, 3, 3)
    runs.billing_run(today=date(2026, 3, 4), now=NOW)
    term.refresh_from_db()
    contract.refresh_from_db()
    # dunning is per contract: the renewed term is past due, the paid term stays active
    assert (term.state, contract.state) == ("past_due", "active")
    runs.billing_run(today=date(2026, 4, 2), now=NOW)  # 30 days past due: the fee is owed…
    assert not InvoiceLine.objects.filter(kind="reinstatement_fee").exists()  # …not charged
    # 45 days past due and the paid coverage has ended: approval is requested (enterprise)
    summary = runs.billing_run(today=date(2026, 4, 17), now=NOW)
    assert summary.counts["suspension_requests"] == 1
    term.refresh_from_db()
    assert term.state == "past_due"
    result = services.payment_record(
        organization=world.acme, amount=renewal.total, currency="USD",
        received_on=date(2026, 4, 18), now=NOW,
    )  # fmt: skip
    assert [c.pk for c in result.reinstated] == [term.pk]
    term.refresh_from_db()
    assert term.state == "active"
    # paying 46 days past due reinstated the contract: the fee is charged now, once
    fee = InvoiceLine.objects.get(kind="reinstatement_fee")
    assert fee.amount == Decimal("7000.00") and fee.fee_for_id is None
    assert fee.invoice.issue_date == date(2026, 4, 18) and fee.invoice.state == "issued"


def test_automatic_suspension_per_plan_B4(world: Any) -> None:
    contract = enterprise(world, start=date(2025, 4, 1))
    PlanBilling.objects.create(plan=contract.plan, suspend_mode="automatic", renewal_lead_months=1)
    runs.billing_run(today=date(2025, 4, 1), now=NOW)
    services.payment_record(
        organization=world.acme, amount=Decimal("67000.00"), currency="USD",
        received_on=date(2025, 4, 2), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2026, 3, 1), now=NOW)  # renewal due 2026-03-31
    summary = runs.billing_run(today=date(2026, 5, 15), now=NOW)
    assert summary.counts["suspended"] == 1
    term = Contract.objects.get(predecessor=contract)
    assert term.state == "suspended"
    assert term.events.last().reason.endswith("suspend (B-4)")


def test_lapse_renewal_backfills_from_original_expiry_B6(world: Any) -> None:
    contract = make_contract(
        world.globex, "per_user", start=date(2025, 1, 1), end=date(2026, 1, 1),
        lines=(contract_services.LineInput(kind="users", quantity=10, unit_price="20.00"),),
    )  # fmt: skip
    contract.plan.per_user_price = Decimal("20.00")
    contract.plan.save()
    PlanBilling.objects.create(plan=contract.plan, billing="annual", lapse_after_days=0)
    contract_services.contract_transition(
        principal=None, contract=contract, to="lapsed", reason="test lapse", now=NOW
    )
    contract.refresh_from_db()
    done = services_reinstatement.contract_reinstate(
        contract=contract, on=date(2026, 3, 10), now=NOW
    )
    inv = done.invoice
    assert inv is not None
    new = Contract.objects.get(predecessor=contract)
    assert done.term == new
    assert new.start == date(2026, 1, 1) and new.state == "active"
    subscription = inv.lines.get(kind="subscription")
    assert subscription.period_start == date(2026, 1, 1)
    assert subscription.amount == Decimal("2400.00")
    fee = inv.lines.get(kind="reinstatement_fee")
    assert fee.amount == Decimal("120.00")  # 5 % of the 2,400.00 basis
    with pytest.raises(Conflict):
        services_reinstatement.contract_reinstate(contract=contract, on=date(2026, 3, 10), now=NOW)


def make_rate_card(world: Any) -> RateCard:
    return RateCard.objects.create(
        vendor=world.vendor, name="MSP rates", currency="USD",
        business_rate=Decimal("150"), after_hours_rate=Decimal("225"),
        weekend_rate=Decimal("250"), holiday_rate=Decimal("300"), increment_minutes=15,
        calendar_spec={
            "timezone": "America/New_York",
            "weekly": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        created_at=NOW,
    )  # fmt: skip


def test_hourly_after_hours_split_B7_B8(world: Any) -> None:
    from tests.factories import make_ticket

    make_rate_card(world)
    ticket = make_ticket(world, world.gina, now=datetime(2026, 1, 6, 20, 0, tzinfo=UTC))
    # Tue 2026-01-06 16:00–18:00 New York (21:00–23:00 UTC): 1 h business + 1 h after hours
    entry = contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer,
        started_at=datetime(2026, 1, 6, 21, 0, tzinfo=UTC),
        ended_at=datetime(2026, 1, 6, 23, 0, tzinfo=UTC),
        work_kind="remote", category="problem", now=datetime(2026, 1, 7, tzinfo=UTC),
    )  # fmt: skip
    summary = runs.billing_run(today=date(2026, 2, 1), now=NOW)
    assert summary.counts["hourly_invoices"] == 1
    inv = Invoice.objects.get(organization=world.globex)
    amounts = sorted(inv.lines.values_list("amount", flat=True))
    assert amounts == [Decimal("150.00"), Decimal("225.00")]
    assert inv.total == Decimal("375.00")
    assert set(inv.lines.values_list("time_entry_id", flat=True)) == {entry.pk}
    again = runs.billing_run(today=date(2026, 2, 1), now=NOW)
    assert again.counts.get("hourly_invoices", 0) == 0
    assert Invoice.objects.filter(organization=world.globex).count() == 1


def test_plan_kind_per_user_monthly_instalment_B5(world: Any) -> None:
    plan = make_plan(world.vendor, "per_user")
    plan.per_user_price = Decimal("20.00")
    plan.save()
    make_contract(
        world.acme, "per_user", start=RUN_DAY,
        lines=(contract_services.LineInput(kind="users", quantity=7, unit_price="20.00"),),
    )  # fmt: skip
    runs.billing_run(today=RUN_DAY, now=NOW)
    inv = Invoice.objects.get()
    assert inv.total == Decimal("140.00")
    assert inv.lines.get().period_end == date(2026, 3, 1)


def test_covered_customer_is_not_billed_hourly_E4_B8(world: Any) -> None:
    from tests.factories import make_ticket

    make_rate_card(world)
    enterprise(world, start=date(2025, 6, 1))
    ticket = make_ticket(world, world.alice, now=datetime(2026, 1, 6, 20, 0, tzinfo=UTC))
    contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer,
        started_at=datetime(2026, 1, 6, 21, 0, tzinfo=UTC), minutes=60,
        work_kind="remote", category="problem", now=datetime(2026, 1, 7, tzinfo=UTC),
    )  # fmt: skip
    summary = runs.billing_run(today=date(2026, 2, 1), now=NOW)
    assert summary.counts.get("hourly_invoices", 0) == 0
    assert not InvoiceLine.objects.filter(kind="hourly").exists()

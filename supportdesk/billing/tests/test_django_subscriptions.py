"""Per-user subscriptions through the services and the run (B-5, B-6): users added mid-term,
the service period start, renewals that carry the users on, instalments chased like any
invoice, and the lapse of an unpaid renewal with its backfilled renewal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from supportdesk.accounts.services import staff_user_create
from supportdesk.billing import runs, services, services_reinstatement, services_subscriptions
from supportdesk.billing.models import Invoice, InvoiceEvent, Payment, PlanBilling
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, Plan
from supportdesk.contracts.tests.django_helpers import make_contract, make_plan
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.tenancy import principal_for

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def per_user_plan(world: Any, billing: str = "monthly") -> Plan:
    plan = make_plan(world.vendor, "per_user")
    plan.per_user_price = Decimal("24.00")
    plan.save()
    PlanBilling.objects.update_or_create(
        plan=plan,
        defaults={
            "billing": billing,
            "annual_discount_percent": Decimal(10),
            "renewal_lead_months": 1,
            "suspend_mode": "automatic",
            "lapse_after_days": 0,
        },
    )
    return plan


def subscription(world: Any, start: date, users: int = 7, billing: str = "monthly") -> Contract:
    per_user_plan(world, billing)
    return make_contract(
        world.acme, "per_user", start=start,
        lines=(contract_services.LineInput(kind="users", quantity=users, unit_price="24.00"),),
    )  # fmt: skip


def billing_clerk(world: Any) -> Any:
    user = staff_user_create(
        email="billing@vendor.example", password="x", vendor=world.vendor, roles=["billing"]
    )
    return principal_for(user)


def test_users_added_mid_month_are_prorated_by_days_B5(world: Any) -> None:
    contract = subscription(world, date(2026, 3, 1))
    runs.billing_run(today=date(2026, 3, 1), now=NOW)  # March: 7 × 24.00 = 168.00
    clerk = billing_clerk(world)
    inv = services_subscriptions.subscription_users_add(
        contract=contract, added=3, on=date(2026, 3, 11), now=NOW, reason="new front desk",
        principal=clerk,
    )  # fmt: skip
    # 3 users × 24.00 × 21/31 days (11–31 March) = 48.774… → 48.77, rounded once
    (line,) = inv.lines.all()
    assert (line.kind, line.amount, line.quantity) == ("proration", Decimal("48.77"), 3)
    assert (line.period_start, line.period_end) == (date(2026, 3, 11), date(2026, 4, 1))
    assert "prorated 21/31 days" in line.description
    assert inv.events.get(kind="created").actor_id == clerk.user_id
    runs.billing_run(today=date(2026, 4, 1), now=NOW)  # April bills the new count: 10 users
    april = Invoice.objects.get(contract=contract, lines__period_start=date(2026, 4, 1))
    assert april.total == Decimal("240.00")


def test_users_added_to_an_annual_term_prorate_over_the_term_and_renew_B5(world: Any) -> None:
    contract = subscription(world, date(2026, 3, 1), billing="annual")
    runs.billing_run(today=date(2026, 3, 1), now=NOW)
    first = Invoice.objects.get(contract=contract)
    assert first.total == Decimal("1814.40")  # 7 × 259.20 (24.00 × 12 less 10 %)
    inv = services_subscriptions.subscription_users_add(
        contract=contract, added=2, on=date(2026, 9, 1), now=NOW
    )
    # 2 × 259.20 × 181/365 days left of the term = 257.0696… → 257.07
    assert inv.total == Decimal("257.07")
    services.payment_record(
        organization=world.acme, amount=first.total + inv.total, currency="USD",
        received_on=date(2026, 9, 5), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2027, 2, 1), now=NOW)  # renewal, one month ahead (B-3)
    term = Contract.objects.get(predecessor=contract)
    assert sum(line.quantity for line in term.lines.all()) == 9
    assert Invoice.objects.get(contract=term).total == Decimal("2332.80")  # 9 × 259.20


def test_users_can_only_be_added_in_force_and_by_billing_staff_B5(world: Any) -> None:
    contract = subscription(world, date(2026, 3, 1))
    with pytest.raises(InvalidInput):
        services_subscriptions.subscription_users_add(
            contract=contract, added=0, on=date(2026, 3, 5), now=NOW
        )
    with pytest.raises(InvalidInput):
        services_subscriptions.subscription_users_add(
            contract=contract, added=1, on=date(2027, 3, 1), now=NOW
        )
    with pytest.raises(Forbidden):
        services_subscriptions.subscription_users_add(
            contract=contract, added=1, on=date(2026, 3, 5), now=NOW,
            principal=principal_for(world.agent),
        )  # fmt: skip


def test_service_period_starts_at_the_earlier_payment_date_B5(world: Any) -> None:
    plan = per_user_plan(world)
    services.payment_record(
        organization=world.acme, amount=Decimal("500.00"), currency="USD",
        received_on=date(2026, 2, 20), now=NOW, reference="paid ahead",
    )  # fmt: skip
    contract, inv = services_subscriptions.subscription_start(
        organization=world.acme, plan=plan, users=7, invoice_date=date(2026, 3, 1), now=NOW
    )
    assert (contract.start, contract.end) == (date(2026, 2, 20), date(2027, 2, 20))
    line = inv.lines.get()
    assert (line.period_start, line.period_end) == (date(2026, 2, 20), date(2026, 3, 20))
    assert inv.issue_date == date(2026, 3, 1) and inv.state == "paid"  # from the money on account
    assert Payment.objects.get().unapplied == Decimal("332.00")
    # the run never issues that first period again; the next instalment follows the new start
    summary = runs.billing_run(today=date(2026, 3, 20), now=NOW)
    assert summary.counts["invoices"] == 1
    assert Invoice.objects.filter(contract=contract).count() == 2


def test_service_period_starts_at_the_invoice_date_when_paid_later_B5(world: Any) -> None:
    plan = per_user_plan(world, "annual")
    contract, inv = services_subscriptions.subscription_start(
        organization=world.acme, plan=plan, users=7, invoice_date=date(2026, 3, 1), now=NOW
    )
    assert contract.start == date(2026, 3, 1) and inv.total == Decimal("1814.40")
    services.payment_record(
        organization=world.acme, amount=inv.total, currency="USD",
        received_on=date(2026, 3, 12), now=NOW,
    )  # fmt: skip
    contract.refresh_from_db()
    assert contract.start == date(2026, 3, 1)
    assert runs.billing_run(today=date(2026, 3, 1), now=NOW).counts.get("invoices", 0) == 0


def test_unpaid_instalment_suspends_automatically_and_never_lapses_B4_B5(world: Any) -> None:
    contract = subscription(world, date(2026, 1, 1))
    runs.billing_run(today=date(2026, 1, 1), now=NOW)  # January, due 2026-01-31
    runs.billing_run(today=date(2026, 2, 1), now=NOW)  # February; January is past due
    contract.refresh_from_db()
    assert contract.state == "past_due"
    assert "reinstatement_fees" not in runs.billing_run(today=date(2026, 3, 2), now=NOW).counts
    summary = runs.billing_run(today=date(2026, 3, 17), now=NOW)  # 45 days past due
    assert summary.counts["suspended"] == 1 and "lapsed" not in summary.counts
    contract.refresh_from_db()
    assert contract.state == "suspended"
    owed = sum(i.balance for i in Invoice.objects.filter(state="issued"))
    result = services.payment_record(
        organization=world.acme, amount=owed, currency="USD", received_on=date(2026, 3, 18),
        now=NOW,
    )  # fmt: skip
    assert [c.pk for c in result.reinstated] == [contract.pk]
    # paid 46 days past due: the payment reinstated it, so the fee is charged now (B-4)
    fee = Invoice.objects.get(lines__kind="reinstatement_fee")
    assert fee.issue_date == date(2026, 3, 18)


def test_unpaid_renewal_lapses_then_renewal_backfills_with_fee_B6(world: Any) -> None:
    contract = subscription(world, date(2025, 3, 1))
    runs.billing_run(today=date(2026, 2, 1), now=NOW)  # 12 instalments + the renewal
    term = Contract.objects.get(predecessor=contract)
    renewal = Invoice.objects.get(contract=term)
    assert renewal.lines.get().period_start == date(2026, 3, 1)
    instalments = Invoice.objects.filter(contract=contract)
    assert instalments.count() == 12
    services.payment_record(
        organization=world.acme, amount=sum(i.total for i in instalments), currency="USD",
        received_on=date(2026, 2, 5), now=NOW,
    )  # fmt: skip
    summary = runs.billing_run(today=date(2026, 3, 1), now=NOW)  # expiry, renewal unpaid
    assert summary.counts["lapsed"] == 1
    contract.refresh_from_db()
    term.refresh_from_db()
    renewal.refresh_from_db()
    assert (contract.state, term.state, renewal.state) == ("lapsed", "cancelled", "void")
    assert not Invoice.objects.filter(lines__kind="reinstatement_fee").exists()  # not at lapse
    again = runs.billing_run(today=date(2026, 4, 1), now=NOW)
    assert again.counts.get("invoices", 0) == 0  # a lapsed subscription is not invoiced
    inv = services_reinstatement.contract_reinstate(
        contract=contract, on=date(2026, 4, 10), now=NOW
    ).invoice
    assert inv is not None
    new = Contract.objects.get(predecessor=contract, state="active")
    assert new.start == date(2026, 3, 1)  # backfilled to the original expiry
    lines = list(inv.lines.values_list("kind", "period_start", "amount"))
    assert lines == [
        ("subscription", date(2026, 3, 1), Decimal("168.00")),
        ("subscription", date(2026, 4, 1), Decimal("168.00")),
        ("reinstatement_fee", None, Decimal("100.80")),  # 5 % of 12 × 168.00
    ]
    with pytest.raises(Conflict):
        services_reinstatement.contract_reinstate(contract=contract, on=date(2026, 4, 10), now=NOW)
    assert InvoiceEvent.objects.filter(invoice=renewal, kind="voided").exists()


def test_renewal_carries_the_add_ons_on_E10_B3(world: Any) -> None:
    per_user_plan(world, "annual")
    contract = make_contract(
        world.acme, "per_user", start=date(2025, 3, 1), addons=["softphone_app"],
        lines=(contract_services.LineInput(kind="users", quantity=7, unit_price="24.00"),),
    )  # fmt: skip
    runs.billing_run(today=date(2026, 2, 1), now=NOW)  # the renewal signs the next term
    renewal = Contract.objects.get(predecessor=contract)
    assert renewal.addons == ["softphone_app"]

"""The billing re-run (issue 16.4, B-9): the light screen settles fully billed customers
without the planner (``runs_contracts._settled``), with a pinned number of statements, and
still bills exactly what was added after the first run — a new contract, a late time entry
of a customer not billed yet this month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.billing import runs, services
from supportdesk.billing.models import Invoice, InvoiceLine, PlanBilling, RateCard
from supportdesk.billing.runs_chains import _done, chains
from supportdesk.billing.runs_contracts import _chain_actions, _open_invoices, _settled
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, Product, TimeEntry
from supportdesk.contracts.tests.django_helpers import make_contract, make_plan
from supportdesk.customers.models import Organization

pytestmark = pytest.mark.django_db

RUN_DAY = date(2026, 2, 1)
NOW = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def enterprise(world: Any, start: date, name: str) -> Contract:
    product = Product.objects.create(vendor=world.vendor, name=f"Server {name}")
    line = contract_services.LineInput(
        kind="licence", quantity=1, unit_price="100000.00", description="Server", product=product
    )
    org = Organization.objects.create(vendor=world.vendor, name=name)
    return make_contract(org, "enterprise", start=start, lines=(line,))


def rate_card(world: Any) -> None:
    RateCard.objects.create(
        vendor=world.vendor, name="rates", currency="USD", business_rate=Decimal("150"),
        after_hours_rate=Decimal("225"), weekend_rate=Decimal("250"),
        holiday_rate=Decimal("300"), increment_minutes=15,
        calendar_spec={"timezone": "UTC", "always_open": True}, created_at=NOW,
    )  # fmt: skip


def log_time(world: Any, org: Organization, day: int) -> TimeEntry:
    """An hour of work on a January day for a customer without a contract (B-8)."""
    from tests.factories import make_contact, make_ticket

    contact = org.contacts.first() or make_contact(org, "Pat", f"pat{org.pk}@example.com")
    ticket = make_ticket(world, contact, now=datetime(2026, 1, day, 9, 0, tzinfo=UTC))
    return contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer,
        started_at=datetime(2026, 1, day, 10, 0, tzinfo=UTC), minutes=60,
        work_kind="remote", category="problem", now=datetime(2026, 1, day, 12, tzinfo=UTC),
    )  # fmt: skip


def rerun_statements(world: Any, n: int, tag: str) -> int:
    """Statements of a re-run over ``n`` more fully billed customers (and one hourly one)."""
    for i in range(n):
        enterprise(world, date(2025, 3 + i % 9, 1 + i), f"{tag} {i}")
    runs.billing_run(today=RUN_DAY, now=NOW)
    invoices = Invoice.objects.count()
    with CaptureQueriesContext(connection) as again:
        summary = runs.billing_run(today=RUN_DAY, now=NOW)
    assert str(summary).endswith("nothing to do"), summary
    assert Invoice.objects.count() == invoices
    return len(again)


def test_pure_rerun_issues_nothing_in_a_pinned_number_of_statements_B9(world: Any) -> None:
    # the vendors; per vendor its plans and their billing, its customers' ids, one screen
    # (contracts, billing choices, keys, open invoices) when it has customers, then rate
    # cards, plans' cards and the customers with work not invoiced (when it has cards):
    # 1 + (3 + 4 + 3) + (3 + 2) for the two vendors of the world. None of it per customer.
    rate_card(world)
    log_time(world, world.globex, 6)
    few = rerun_statements(world, 2, "few")
    many = rerun_statements(world, 12, "many")
    assert few == many == 16, (few, many)


def test_rerun_bills_exactly_a_contract_added_after_the_first_run_B3_B9(world: Any) -> None:
    for i in range(3):
        enterprise(world, date(2025, 4 + i, 1), f"early {i}")
    runs.billing_run(today=RUN_DAY, now=NOW)
    before = set(Invoice.objects.values_list("pk", flat=True))
    late = enterprise(world, date(2026, 1, 15), "late")
    summary = runs.billing_run(today=RUN_DAY, now=NOW)
    assert dict(summary.counts) == {"invoices": 1}
    new = Invoice.objects.exclude(pk__in=before).get()
    assert new.contract_id == late.pk and new.total == Decimal("55000.00")  # 30 % + 25,000
    assert set(new.lines.values_list("period_start", flat=True)) == {date(2026, 1, 15)}
    assert str(runs.billing_run(today=RUN_DAY, now=NOW)).endswith("nothing to do")


def test_rerun_bills_exactly_a_late_time_entry_B8_B9(world: Any) -> None:
    rate_card(world)
    enterprise(world, date(2025, 5, 1), "covered")
    first = log_time(world, world.globex, 6)
    runs.billing_run(today=RUN_DAY, now=NOW)
    billed = set(InvoiceLine.objects.values_list("pk", flat=True))
    other = Organization.objects.create(vendor=world.vendor, name="Late customer")
    late = log_time(world, other, 20)  # logged after the run, for January
    summary = runs.billing_run(today=RUN_DAY, now=NOW)
    assert dict(summary.counts) == {"hourly_invoices": 1}
    line = InvoiceLine.objects.exclude(pk__in=billed).get()
    assert line.time_entry_id == late.pk and line.amount == Decimal("150.00")
    assert line.invoice.organization_id == other.pk
    # a customer invoiced for January already: its late entry waits for February's invoice
    # (one invoice per organisation per month), it is not invoiced twice for January
    again = log_time(world, world.globex, 21)
    assert str(runs.billing_run(today=RUN_DAY, now=NOW)).startswith(
        f"billing run {RUN_DAY}: already_done: 1"
    )
    assert not InvoiceLine.objects.filter(time_entry=again).exists()
    assert InvoiceLine.objects.filter(time_entry=first).count() == 1
    march = runs.billing_run(today=date(2026, 3, 1), now=NOW)
    assert march.counts["hourly_invoices"] == 1
    assert InvoiceLine.objects.filter(time_entry=again).count() == 1


def test_settled_answers_as_the_planner_day_by_day_B3_B4_B5_B6(world: Any) -> None:
    """Unpaid, paid, past due, suspension requested or automatic, monthly instalments and a
    per-user lapse: on every day the screen settles a chain exactly when the planner has
    nothing for it (no action, no past-due step)."""
    unpaid = enterprise(world, date(2025, 4, 1), "unpaid")
    paid = enterprise(world, date(2025, 4, 10), "paid")
    hourly = make_plan(world.vendor, "hourly")  # no scheduled invoices, dunning only
    PlanBilling.objects.create(plan=hourly, suspend_mode="automatic")
    per_user = make_plan(world.vendor, "per_user")
    per_user.per_user_price = Decimal("20.00")
    per_user.save()
    PlanBilling.objects.create(plan=per_user, billing="monthly", lapse_after_days=0)
    users = (contract_services.LineInput(kind="users", quantity=7, unit_price="20.00"),)
    make_contract(world.acme, "per_user", start=date(2025, 5, 31), lines=users)
    make_contract(world.globex, "hourly", start=date(2025, 4, 1))
    # another vendor: annual per-user billing whose unpaid renewal lapses at expiry (B-6)
    rival_plan = make_plan(world.other_vendor, "per_user")
    rival_plan.per_user_price = Decimal("20.00")
    rival_plan.save()
    PlanBilling.objects.create(plan=rival_plan, billing="annual", lapse_after_days=0)
    rival = Organization.objects.create(vendor=world.other_vendor, name="Rival customer")
    lapsing = make_contract(rival, "per_user", start=date(2025, 4, 1), lines=users)
    day = date(2025, 4, 1)
    compared = 0
    while day <= date(2026, 7, 1):
        for vendor in (world.vendor, world.other_vendor):
            found = list(chains(vendor))
            done = _done(vendor, [c.subject for c in found])
            opened = _open_invoices(found)
            for chain in found:
                inv = opened.get(chain.subject)
                actions, past_due = _chain_actions(chain, inv, done, day)
                assert _settled(chain, inv, done, day) == (not actions and past_due is None), (
                    chain.label,
                    day,
                    actions,
                    past_due,
                )
                compared += 1
        runs.billing_run(today=day, now=NOW)
        if day == date(2025, 4, 11):
            for contract in (paid, lapsing):
                inv = Invoice.objects.get(contract=contract)
                services.payment_record(
                    organization=contract.organization, amount=inv.total, currency="USD",
                    received_on=day, now=NOW,
                )  # fmt: skip
        day += timedelta(days=5)
    assert compared > 300
    unpaid.refresh_from_db()
    lapsing.refresh_from_db()
    assert (unpaid.state, lapsing.state) == ("past_due", "lapsed")

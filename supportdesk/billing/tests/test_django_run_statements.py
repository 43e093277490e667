"""The billing run at scale (issue 16.4): statements per batch do not grow with the chains in
it, renewals are signed in bulk through ``contracts_create_many`` (B-3, E-1), and the bulk
path keeps the single path's refusals and gap-free numbers (B-1, B-9)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.billing import runs
from supportdesk.billing.models import Invoice
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, ContractEvent, ContractLine, Product
from supportdesk.contracts.services_create import ContractInput, contracts_create_many
from supportdesk.contracts.tests.django_helpers import make_contract, make_plan
from supportdesk.core.errors import InvalidInput
from supportdesk.customers.models import Organization

pytestmark = pytest.mark.django_db

RUN_DAY = date(2026, 2, 1)
NOW = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def customers(world: Any, n: int, start: date = date(2025, 3, 1)) -> list[Contract]:
    """``n`` customers, each with a one-year enterprise term from ``start`` never invoiced:
    a run 11 months later issues its first invoice and signs and invoices its renewal (lead
    1-2 months, B-3)."""
    product = Product.objects.create(vendor=world.vendor, name=f"Server {start}")
    line = contract_services.LineInput(
        kind="licence", quantity=1, unit_price="100000.00", description="Server", product=product
    )
    return [
        make_contract(
            Organization.objects.create(vendor=world.vendor, name=f"Customer {start} {i}"),
            "enterprise",
            start=start,
            lines=(line,),
        )
        for i in range(n)
    ]


def run_statements(world: Any, n: int, start: date) -> tuple[int, int]:
    """Statements of a run that signs and invoices ``n`` renewals, and of its re-run."""
    customers(world, n, start)
    day = start.replace(year=start.year + 1, month=start.month - 1)
    with CaptureQueriesContext(connection) as first:
        summary = runs.billing_run(today=day, now=NOW)
    assert summary.counts["renewals"] == n and summary.counts["invoices"] == 2 * n
    with CaptureQueriesContext(connection) as again:
        assert str(runs.billing_run(today=day, now=NOW)).endswith("nothing to do")
    return len(first), len(again)


def test_statements_per_batch_do_not_grow_with_its_chains_B3_B9(world: Any) -> None:
    # one batch: the light read, the full read, the key claims, one signing round for all
    # the renewals (lock + read terms, users, products, 3 inserts), the invoices' numbers and
    # inserts, the links; the hourly part reads its entries. None of it is per chain.
    run_statements(world, 1, date(2025, 3, 1))  # the vendor's first invoice numbers its counter
    few = run_statements(world, 2, date(2025, 3, 2))
    many = run_statements(world, 9, date(2025, 3, 3))  # same batch: the earlier ones are idle
    assert few == many
    assert few[0] <= 45 and few[1] <= 15, few


def test_bulk_renewals_are_gap_free_and_each_signs_its_term_B1_B3(world: Any) -> None:
    terms = customers(world, 5)
    runs.billing_run(today=RUN_DAY, now=NOW)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 11))
    for term in terms:
        renewal = Contract.objects.get(predecessor=term)
        assert (renewal.start, renewal.end, renewal.state) == (
            date(2026, 3, 1),
            date(2027, 3, 1),
            "active",
        )
        assert [(x.kind, x.unit_price, x.product_id) for x in renewal.lines.all()] == [
            (x.kind, x.unit_price, x.product_id) for x in term.lines.all()
        ]
        assert ContractEvent.objects.filter(contract=renewal, kind="created").count() == 1
        assert Invoice.objects.filter(contract=renewal).count() == 1


def item(world: Any, org: Organization, start: date, end: date) -> ContractInput:
    return ContractInput(
        organization=org, plan=make_plan(world.vendor, "enterprise"), start=start, end=end,
        state="active", reference=f"{start}",
    )  # fmt: skip


def test_batch_refuses_an_overlap_with_an_earlier_item_and_writes_nothing_E1(world: Any) -> None:
    org = world.acme
    items = [
        item(world, org, date(2026, 1, 1), date(2027, 1, 1)),
        item(world, org, date(2026, 6, 1), date(2027, 6, 1)),  # overlaps the first
    ]
    before = Contract.objects.count()
    with pytest.raises(InvalidInput, match="overlaps"):
        contracts_create_many(principal=None, items=items, now=NOW)
    assert Contract.objects.count() == before


def test_partial_batch_answers_the_refusal_in_its_place_and_creates_the_rest_E1(
    world: Any,
) -> None:
    org, other = world.acme, Organization.objects.create(vendor=world.vendor, name="Other")
    items = [
        item(world, org, date(2026, 1, 1), date(2027, 1, 1)),
        item(world, org, date(2026, 6, 1), date(2027, 6, 1)),
        item(world, other, date(2026, 6, 1), date(2026, 5, 1)),  # ends before it starts
        item(world, other, date(2026, 6, 1), date(2027, 6, 1)),
    ]
    made = contracts_create_many(principal=None, items=items, now=NOW, partial=True)
    assert [type(x).__name__ for x in made] == [
        "Contract",
        "InvalidInput",
        "InvalidInput",
        "Contract",
    ]
    signed = [x for x in made if isinstance(x, Contract)]
    assert [
        (c.organization_id, c.start) for c in Contract.objects.filter(pk__in=[c.pk for c in signed])
    ] == [
        (org.pk, date(2026, 1, 1)),
        (other.pk, date(2026, 6, 1)),
    ]
    assert ContractEvent.objects.filter(contract__in=signed).count() == 2
    assert not ContractLine.objects.filter(contract__in=signed).exists()


def test_batch_writes_with_the_same_statements_for_2_and_20_items_E1(world: Any) -> None:
    def statements(n: int, year: int) -> int:
        orgs = [
            Organization.objects.create(vendor=world.vendor, name=f"B{year}-{i}") for i in range(n)
        ]
        items = [item(world, o, date(year, 1, 1), date(year + 1, 1, 1)) for o in orgs]
        make_plan(world.vendor, "enterprise")  # the plan exists before counting
        with CaptureQueriesContext(connection) as ctx:
            contracts_create_many(principal=None, items=items, now=NOW)
        return len(ctx)

    assert statements(2, 2030) == statements(20, 2040)

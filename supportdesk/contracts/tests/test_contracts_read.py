"""A new ticket's contracts read with the create read (issue 16.2, N-2, E-4): the same
contracts, plans, lines and products as their own read makes, value for value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model

from supportdesk.contracts import services
from supportdesk.contracts.services_entitlement import (
    _contracts_with_lines,
    contract_rows_of,
    contracts_branch,
)
from supportdesk.tickets.create_read import CONTRACTS, union_read

from .django_helpers import START, make_contract, make_product

pytestmark = pytest.mark.django_db


def _values(obj: Model | None) -> list[tuple[str, type, Any]]:
    if obj is None:
        return []
    return [
        (f.attname, type(getattr(obj, f.attname)), getattr(obj, f.attname))
        for f in type(obj)._meta.concrete_fields
    ]


def _contents(found: dict[int, list[Any]]) -> dict[int, list[Any]]:
    """Every value of every object read, with its type; the lines' products' names."""
    return {
        org: [
            (
                _values(contract), _values(contract.plan), rules, contract.plan_snapshot,
                [(_values(line), line.product.name if line.product else None) for line in lines],
            )
            for contract, rules, lines in contracts
        ]
        for org, contracts in found.items()
    }  # fmt: skip


def test_contracts_read_with_the_create_read_are_those_of_their_own_read_N2_E4(world: Any):
    product = make_product(world.vendor)
    first = make_contract(
        world.acme, "enterprise", end=date(2026, 6, 1), reference="ACME-1", currency="EUR",
        price_fixed_override="1234567.50", addons=(),
        lines=[
            services.LineInput("licence", 3, "99.90", "Router \"edge\", {rack 2}", product=product,
                               start=START, reactivation_fee="12.00"),
            services.LineInput("users", 25, "10.00"),
        ],
    )  # fmt: skip
    make_contract(world.acme, "per_user", start=first.end, state="draft", predecessor=first,
                  price_percent_override="87.5")  # fmt: skip
    make_contract(world.globex, "per_user")  # another customer's: not read for acme alone
    orgs = [world.acme.pk, world.globex.pk]
    own = _contracts_with_lines(orgs)
    assert [len(own[o]) for o in orgs] == [2, 1]
    assert [len(lines) for _, _, lines in own[world.acme.pk]] == [2, 0]
    assert own[world.acme.pk][0][0].price_fixed_override == Decimal("1234567.50")
    if connection.vendor != "postgresql":
        return  # SQLite's create read leaves the contracts to their own read: no round trip
    rows = union_read([contracts_branch(orgs)]).get(CONTRACTS, [])
    assert _contents(_contracts_with_lines(orgs, contract_rows_of(rows))) == _contents(own)
    rows = union_read([contracts_branch([world.acme.pk])]).get(CONTRACTS, [])
    with_acme = _contracts_with_lines([world.acme.pk], contract_rows_of(rows))
    assert _contents(with_acme) == {world.acme.pk: _contents(own)[world.acme.pk]}

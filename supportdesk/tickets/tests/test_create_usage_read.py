"""What a customer's caps have used, read with a new ticket's create read (issue 16.2, N-2,
E-5): the reads the last creation for the customer made, taken again in the create read and
used only when the new ticket's own contracts ask for exactly those reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.contracts.services import time_entry_add
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.sla.demo import demo_extend
from supportdesk.tickets.models import Ticket
from tests.factories import NOW, make_ticket

from .test_create_statements import statements_of

pytestmark = pytest.mark.django_db


def _hours_used(ticket: Ticket) -> Decimal:
    """The enterprise plan's one cap (installation work by phone): hours used, as decided."""
    [cap] = ticket.entitlement.decision["cap_usage"]
    return Decimal(cap["used"])


def _create(world: Any, now: datetime, contact: Any = None) -> tuple[Ticket, int]:
    """A new ticket, and how many reads of time entries of their own it cost (the usage
    read read with the create read is a branch of that statement)."""
    with CaptureQueriesContext(connection) as captured:
        ticket = make_ticket(world, contact, now=now)
    own = [sql for sql in statements_of(captured) if sql.startswith(_TIME_ENTRIES_READ)]
    return ticket, len(own)


_TIME_ENTRIES_READ = 'SELECT "tickets_ticket"."organization_id" AS "ticket__organization_id"'


def _phone_installation(world: Any, ticket: Ticket, at: datetime, minutes: int) -> None:
    time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer, started_at=at,
        work_kind="phone", category="installation", minutes=minutes,
        now=at + timedelta(minutes=minutes),
    )  # fmt: skip


def test_caps_read_with_the_create_read_count_what_their_own_read_counts_N2_E5(world: Any):
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise", end=date(2027, 6, 1))  # two contract years
    sqlite = connection.vendor == "sqlite"  # reads them on its own each time: no round trip
    first, own_reads = _create(world, NOW)  # no creation for acme before: its own read
    assert (_hours_used(first), own_reads) == (0, 1)
    _phone_installation(world, first, NOW, 90)
    second, own_reads = _create(world, NOW + timedelta(minutes=5))
    assert (_hours_used(second), own_reads) == (Decimal("1.5"), sqlite)  # the new entry too
    # the contract's second year (from 2026-06-01): other bounds, so its own read again
    later = datetime(2026, 7, 1, 9, tzinfo=UTC)
    third, own_reads = _create(world, later)
    assert (_hours_used(third), own_reads) == (0, 1)  # last year's hours are not this year's
    _phone_installation(world, third, later, 30)
    fourth, own_reads = _create(world, later + timedelta(minutes=5))
    assert (_hours_used(fourth), own_reads) == (Decimal("0.5"), sqlite)


def test_another_customers_reads_are_not_taken_for_a_customers_caps_N2_E5(world: Any):
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise")
    make_contract(world.globex, "enterprise")
    acme = make_ticket(world)
    _phone_installation(world, acme, NOW, 60)
    acme, own_reads = _create(world, NOW + timedelta(hours=1))
    assert (_hours_used(acme), own_reads) == (1, connection.vendor == "sqlite")
    globex, own_reads = _create(world, NOW + timedelta(hours=1), world.gina)
    assert (_hours_used(globex), own_reads) == (0, 1)  # acme's hour is acme's: its own read

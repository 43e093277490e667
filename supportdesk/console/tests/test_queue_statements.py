"""The console queue's statements are pinned (issue 16.1): a page of 50 tickets costs the
statements of a page of two, whatever its tickets carry (products, entitlements, tags, SLA
clocks, requesters with several addresses, assignees)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.contracts.tests.django_helpers import make_contract, make_product
from supportdesk.core.tenancy import principal_for
from supportdesk.tickets import services
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

# Session, user, two-factor devices and requirement, time zone, contact, roles; the view
# counts (which also give the page's total), the page's rows and their tags, SLA clocks,
# escalations, saved views, queues, staff, organisations.
QUEUE_STATEMENTS = 17


def test_the_console_queue_costs_the_same_statements_whatever_its_length(client, world):
    client.force_login(world.agent)
    make_contract(world.acme, "enterprise")
    product = make_product(world.vendor)
    make_ticket(world, product=product)
    make_ticket(world, world.gina)
    client.get("/console/")

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/console/", {"view": "open"}).status_code == 200
        return len(captured)

    few = statements()
    staff = principal_for(world.agent)
    for i in range(48):
        ticket = make_ticket(world, world.bob if i % 2 else world.gina, product=product)
        if i % 3 == 0:
            services.ticket_assign(ticket=ticket, principal=staff, assignee=world.agent, now=NOW)
    assert statements() == few
    assert few == QUEUE_STATEMENTS

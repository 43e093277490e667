"""Suspension on approval (B-4): the run asks, a billing clerk approves or declines with a
reason, and who and why are recorded; a payment reinstates the contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from supportdesk.billing import runs, selectors, services, services_subscriptions
from supportdesk.billing.models import Invoice, InvoiceEvent
from supportdesk.billing.tests.test_django_billing import NOW, enterprise
from supportdesk.billing.tests.test_django_subscriptions import billing_clerk
from supportdesk.contracts.models import Contract, ContractEvent
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from supportdesk.core.tenancy import principal_for

pytestmark = pytest.mark.django_db


def overdue_renewal(world: Any) -> Contract:
    """An enterprise renewal 45 days past due: the run has asked for approval."""
    contract = enterprise(world, start=date(2025, 4, 1))
    runs.billing_run(today=date(2025, 4, 1), now=NOW)
    services.payment_record(
        organization=world.acme, amount=Decimal("67000.00"), currency="USD",
        received_on=date(2025, 4, 2), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2026, 2, 1), now=NOW)  # renewal, due 2026-03-03
    summary = runs.billing_run(today=date(2026, 4, 17), now=NOW)
    assert summary.counts["suspension_requests"] == 1
    return Contract.objects.get(predecessor=contract)


def test_approved_suspension_switches_the_contract_off_and_records_who_B4(world: Any) -> None:
    term = overdue_renewal(world)
    clerk = billing_clerk(world)
    (request,) = selectors.suspension_request_list(principal=clerk)
    assert request.invoice is not None and request.invoice.contract_id == term.pk
    services_subscriptions.suspension_request_decide(
        request_id=request.pk, approve=True, reason="no answer to three reminders", now=NOW,
        principal=clerk,
    )  # fmt: skip
    term.refresh_from_db()
    assert term.state == "suspended"
    event = ContractEvent.objects.filter(contract=term).last()
    assert event is not None and event.actor_id == clerk.user_id
    assert "no answer to three reminders" in event.reason
    note = InvoiceEvent.objects.get(kind="suspension_approved")
    assert (note.actor_id, note.detail) == (clerk.user_id, "no answer to three reminders")
    assert selectors.suspension_request_list(principal=clerk) == []
    with pytest.raises(Conflict):
        services_subscriptions.suspension_request_decide(
            request_id=request.pk, approve=True, reason="again", now=NOW, principal=clerk
        )
    assert runs.billing_run(today=date(2026, 4, 18), now=NOW).counts == {}
    owed = sum(i.balance for i in Invoice.objects.filter(state="issued"))
    result = services.payment_record(
        organization=world.acme, amount=owed, currency="USD", received_on=date(2026, 4, 20),
        now=NOW, principal=clerk,
    )  # fmt: skip
    assert [c.pk for c in result.reinstated] == [term.pk]


def test_declined_suspension_keeps_service_and_is_not_asked_again_B4(world: Any) -> None:
    term = overdue_renewal(world)
    clerk = billing_clerk(world)
    (request,) = selectors.suspension_request_list(principal=clerk)
    with pytest.raises(InvalidInput):
        services_subscriptions.suspension_request_decide(
            request_id=request.pk, approve=False, reason=" ", now=NOW, principal=clerk
        )
    services_subscriptions.suspension_request_decide(
        request_id=request.pk, approve=False, reason="payment promised by wire", now=NOW,
        principal=clerk,
    )  # fmt: skip
    term.refresh_from_db()
    assert term.state == "past_due"
    later = runs.billing_run(today=date(2026, 5, 30), now=NOW)
    assert later.counts.get("suspension_requests", 0) == 0
    assert selectors.suspension_request_list(principal=clerk) == []


def test_only_the_vendors_billing_staff_decide_B4(world: Any) -> None:
    overdue_renewal(world)
    (request,) = selectors.suspension_request_list(principal=billing_clerk(world))
    with pytest.raises(Forbidden):
        services_subscriptions.suspension_request_decide(
            request_id=request.pk, approve=True, reason="x", now=NOW,
            principal=principal_for(world.agent),
        )  # fmt: skip
    for outsider in (world.rival_agent, world.alice.user):
        with pytest.raises(NotFound):
            services_subscriptions.suspension_request_decide(
                request_id=request.pk, approve=True, reason="x", now=NOW,
                principal=principal_for(outsider),
            )  # fmt: skip


def test_suspension_requests_api_B4(world: Any, api: Any) -> None:
    from supportdesk.accounts.models import User

    term = overdue_renewal(world)
    clerk = User.objects.get(pk=billing_clerk(world).user_id)
    rows = api(clerk).get("/suspension-requests").json()
    assert [r["contract"] for r in rows] == [term.pk]
    assert api(world.rival_agent).get("/suspension-requests").json() == []
    assert api(world.alice.user).get("/suspension-requests").status_code == 403
    path = f"/suspension-requests/{rows[0]['id']}"
    assert api(world.alice.user).post(path, {"approve": True, "reason": "x"}).status_code == 404
    assert api(world.agent).post(path, {"approve": True, "reason": "x"}).status_code == 403
    assert api(clerk).post(path, {"approve": "maybe"}).status_code == 422
    done = api(clerk).post(path, {"approve": True, "reason": "90 days of silence"})
    assert done.status_code == 200, done.content
    term.refresh_from_db()
    assert term.state == "suspended"
    assert api(clerk).post(path, {"approve": True, "reason": "again"}).status_code == 409

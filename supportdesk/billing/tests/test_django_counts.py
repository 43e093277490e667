"""Per-user subscriptions billed by the inventory's count (E-9, B-5): a changed inventory
proposes the change (billing staff confirm in one click) or applies it per plan; added users
are prorated, fewer users are billed from the next period; invoice lines link to the
explanation of the count."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from supportdesk.billing import runs, services_counts
from supportdesk.billing.models import Invoice, PlanBilling, UserCountChange
from supportdesk.billing.tests.test_django_api import clerk_user
from supportdesk.billing.tests.test_django_subscriptions import billing_clerk, per_user_plan
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core import clock
from supportdesk.core.errors import Conflict

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def inventory(phones: int) -> dict[str, Any]:
    """``phones`` desk phones on their extensions, a voicemail box and a phone tree (E-9)."""
    return {
        "devices": [
            {"id": f"D{i}", "kind": "desk_phone", "extension": f"10{i}"}
            for i in range(1, phones + 1)
        ],
        "extensions": [
            *(
                {"id": f"10{i}", "kind": "user", "can_call": True, "can_receive": True}
                for i in range(1, phones + 1)
            ),
            {"id": "500", "kind": "voicemail"},
            {"id": "600", "kind": "ivr_menu"},
        ],
        "people": [],
    }


@pytest.fixture
def fixed_clock(monkeypatch: Any) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def subscription(world: Any, users: int = 3, billing: str = "monthly") -> Contract:
    per_user_plan(world, billing)
    return make_contract(
        world.acme, "per_user", start=date(2026, 3, 1), end=date(2027, 3, 1),
        lines=(contract_services.LineInput(kind="users", quantity=users, unit_price="24.00"),),
    )  # fmt: skip


def test_inventory_counting_5_is_invoiced_for_5_with_the_explanation_E9_B5(
    world: Any, api: Any, fixed_clock: None
) -> None:
    contract = subscription(world, users=3)
    runs.billing_run(today=date(2026, 3, 1), now=NOW)  # March: 3 × 24.00
    put = api(world.agent).client.put(
        f"/api/v1/organizations/{world.acme.pk}/inventory", inventory(5),
        content_type="application/json", **api(world.agent).headers,
    )  # fmt: skip
    assert put.status_code == 200, put.content
    proposed = put.json()["user_count_change"]
    assert (proposed["state"], proposed["users_before"], proposed["users_after"]) == (
        "proposed", 3, 5,
    )  # fmt: skip
    assert Invoice.objects.count() == 1  # nothing billed before billing staff confirm
    clerk = api(clerk_user(world))
    listed = clerk.get("/user-count-changes").json()
    assert [c["id"] for c in listed] == [proposed["id"]]
    assert api(world.agent).post(
        f"/user-count-changes/{proposed['id']}", {"approve": True, "reason": "ok"}
    ).status_code == 403  # fmt: skip
    done = clerk.post(f"/user-count-changes/{proposed['id']}", {"approve": True, "reason": "ok"})
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "applied"
    # two users added on 2026-03-11: 2 × 24.00 × 21 / 31 = 32.516… → 32.52 (B-5)
    proration = Invoice.objects.get(lines__kind="proration")
    assert proration.total == Decimal("32.52")
    runs.billing_run(today=date(2026, 4, 1), now=NOW)
    april = Invoice.objects.get(lines__kind="subscription", lines__period_start=date(2026, 4, 1))
    line = clerk.get(f"/invoices/{april.number}").json()["lines"][0]
    assert Decimal(line["quantity"]) == 5 and Decimal(line["amount"]) == Decimal("120.00")
    # the line links to why those 5 users count, item by item, for the customer too
    why = api(world.alice.user).get(line["explanation"].removeprefix("/api/v1"))
    assert why.status_code == 200, why.content
    body = why.json()
    assert (body["users_billed"], body["counted_users"]) == (5, 5)
    reasons = {item["id"]: item["reason"] for item in body["items"]}
    assert reasons["D1"] == "a desk phone counts as a user"
    assert reasons["500"] == "a voicemail box does not count as a user"
    assert api(world.gina.user).get(line["explanation"].removeprefix("/api/v1")).status_code == 404
    assert contract.pk == line["contract"]


def test_fewer_users_are_billed_from_the_next_month_with_no_credit_B5(world: Any) -> None:
    contract = subscription(world, users=7)
    PlanBilling.objects.filter(plan=contract.plan).update(count_changes="automatic")
    contract_services.inventory_put(
        principal=None, organization=world.acme, data=inventory(5), now=NOW
    )
    change = services_counts.user_count_propose(organization=world.acme, on=date(2026, 3, 11),
                                                now=NOW)  # fmt: skip
    assert change is not None and change.state == "applied"
    assert change.effective_on == date(2026, 4, 1) and change.invoice is None  # no credit
    runs.billing_run(today=date(2026, 4, 1), now=NOW)
    march, april = Invoice.objects.order_by("number")
    assert (march.total, april.total) == (Decimal("168.00"), Decimal("120.00"))  # 7, then 5


def test_a_later_count_supersedes_an_open_proposal_and_decided_is_final_B5(world: Any) -> None:
    subscription(world, users=3)
    for phones in (5, 6):
        contract_services.inventory_put(
            principal=None, organization=world.acme, data=inventory(phones), now=NOW
        )
        services_counts.user_count_propose(organization=world.acme, on=date(2026, 3, 11), now=NOW)
    states = list(UserCountChange.objects.values_list("users_after", "state"))
    assert states == [(5, "superseded"), (6, "proposed")]
    open_change = UserCountChange.objects.get(state="proposed")
    clerk = billing_clerk(world)
    services_counts.user_count_change_decide(
        change_id=open_change.pk, approve=False, reason="inventory is wrong", now=NOW,
        principal=clerk,
    )  # fmt: skip
    with pytest.raises(Conflict):
        services_counts.user_count_change_decide(
            change_id=open_change.pk, approve=True, now=NOW, principal=clerk
        )
    assert not Invoice.objects.exists()


def test_console_confirms_a_count_in_one_click_B5(world: Any, client: Any) -> None:
    subscription(world, users=3)
    contract_services.inventory_put(
        principal=None, organization=world.acme, data=inventory(5), now=NOW
    )
    change = services_counts.user_count_propose(organization=world.acme, on=date(2026, 3, 11),
                                                now=NOW)  # fmt: skip
    assert change is not None
    clerk = clerk_user(world)
    client.force_login(clerk)
    page = client.get(reverse("console:billing:overview")).content.decode()
    assert "User counts to confirm" in page and "a voicemail box does not count" in page
    url = reverse("console:billing:count_decide", args=[change.pk])
    client.force_login(world.rival_agent)
    assert client.post(url, {"decision": "approve"}).status_code == 404
    client.force_login(clerk)
    assert client.post(url, {"decision": "approve"}).status_code == 302
    change.refresh_from_db()
    assert change.state == "applied" and change.invoice is not None


def test_subscription_without_users_bills_the_inventory_count_E9(
    world: Any, api: Any, fixed_clock: None
) -> None:
    plan = per_user_plan(world, "annual")
    contract_services.inventory_put(
        principal=None, organization=world.acme, data=inventory(5), now=NOW
    )
    response = api(clerk_user(world)).post(
        "/subscriptions",
        {"organization": world.acme.pk, "plan": plan.slug, "invoice_date": "2026-03-11"},
    )
    assert response.status_code == 201, response.content
    (line,) = response.json()["invoice"]["lines"]
    assert Decimal(line["quantity"]) == 5  # 5 × 259.20 = 1,296.00
    assert Decimal(response.json()["invoice"]["total"]) == Decimal("1296.00")

"""Reinstatement end to end (B-4, B-6): the fee is charged when a contract is reinstated,
never by the passing of time; the past-due clock is a plan setting; lapsed contracts renew
from their original expiry; third-party licences add their own reactivation fees. Through the
service, the API, the command line and the console."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from supportdesk.billing import runs, services, services_reinstatement
from supportdesk.billing.models import Invoice, InvoiceLine, PlanBilling
from supportdesk.billing.tests.test_django_api import clerk_user
from supportdesk.billing.tests.test_django_billing import enterprise
from supportdesk.billing.tests.test_django_subscriptions import billing_clerk, per_user_plan
from supportdesk.cli import main
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.errors import Conflict, InvalidInput

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
END = date(2026, 4, 1)  # the first term ends (exclusive)


def seed_000_contract(world: Any, clock: str = "term_end") -> tuple[Contract, Contract, Invoice]:
    """An enterprise contract 2025-04-01 … 2026-04-01 on 140,000.00 of licences (seed 000),
    its first term paid, its renewal invoiced two months ahead (2026-02-01, due 03-03) and
    unpaid. Returns (first term, renewal term, renewal invoice)."""
    contract = enterprise(world, start=date(2025, 4, 1))
    PlanBilling.objects.create(plan=contract.plan, renewal_lead_months=2, past_due_clock=clock)
    runs.billing_run(today=date(2025, 4, 1), now=NOW)
    services.payment_record(
        organization=world.acme, amount=Decimal("67000.00"), currency="USD",
        received_on=date(2025, 4, 5), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2026, 2, 1), now=NOW)
    term = Contract.objects.get(predecessor=contract)
    renewal = Invoice.objects.get(contract=term)
    assert (renewal.issue_date, renewal.due_date) == (date(2026, 2, 1), date(2026, 3, 3))
    return contract, term, renewal


def fees() -> list[Decimal]:
    return list(
        InvoiceLine.objects.filter(kind="reinstatement_fee").values_list("amount", flat=True)
    )


def test_unpaid_renewal_30_days_after_issue_before_term_end_is_charged_no_fee_B4(
    world: Any,
) -> None:
    _, term, renewal = seed_000_contract(world)
    for day in (date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 31)):  # 30+ days after issue
        runs.billing_run(today=day, now=NOW)
    term.refresh_from_db()
    assert term.state == "active"  # the clock starts at the end of the term (seed 000)
    assert fees() == []
    # paid on the last day of the old term: not a reinstatement, no fee
    services.payment_record(
        organization=world.acme, amount=renewal.total, currency="USD",
        received_on=date(2026, 3, 31), now=NOW,
    )  # fmt: skip
    runs.billing_run(today=date(2026, 5, 20), now=NOW)
    assert fees() == []


def test_reinstating_31_days_after_the_end_charges_5_percent_new_term_at_old_end_B4_B6(
    world: Any,
) -> None:
    contract, term, renewal = seed_000_contract(world)
    runs.billing_run(today=date(2026, 4, 2), now=NOW)  # past due from the end of the term
    term.refresh_from_db()
    assert term.state == "past_due"
    runs.billing_run(today=date(2026, 5, 2), now=NOW)  # 31 days: owed, still not charged
    assert fees() == []
    preview = services_reinstatement.reinstatement_preview(contract=term, on=date(2026, 5, 2))
    assert (preview.since, preview.days_past_due) == (END, 31)
    assert [x.amount.amount for x in preview.lines] == [Decimal("7000.00")]
    done = services_reinstatement.contract_reinstate(
        contract=contract, on=date(2026, 5, 2), now=NOW, principal=billing_clerk(world)
    )
    assert done.term.pk == term.pk and done.term.start == END == contract.end
    assert done.term.state == "active"
    assert done.invoice is not None and done.invoice.total == Decimal("7000.00")
    (line,) = done.invoice.lines.all()
    assert line.kind == "reinstatement_fee" and line.fee_for_id == renewal.pk
    assert "5 % of total licence list price 140,000.00 USD" in line.description
    # the fee is charged once: reinstating again is refused, paying the renewal adds nothing
    with pytest.raises(Conflict):
        services_reinstatement.contract_reinstate(contract=term, on=date(2026, 5, 3), now=NOW)
    services.payment_record(
        organization=world.acme, amount=renewal.total, currency="USD",
        received_on=date(2026, 5, 3), now=NOW,
    )  # fmt: skip
    assert fees() == [Decimal("7000.00")]


def test_due_date_clock_counts_from_the_invoice_due_date_B4(world: Any) -> None:
    _, term, _ = seed_000_contract(world, clock="due_date")
    runs.billing_run(today=date(2026, 3, 4), now=NOW)
    term.refresh_from_db()
    assert term.state == "past_due"  # the day after the due date, though the term runs on
    early = services_reinstatement.reinstatement_preview(contract=term, on=date(2026, 4, 1))
    assert (early.days_past_due, early.lines) == (29, ())  # under 30 days: no fee
    late = services_reinstatement.reinstatement_preview(contract=term, on=date(2026, 4, 2))
    assert [x.amount.amount for x in late.lines] == [Decimal("7000.00")]


def test_payment_30_plus_days_past_due_reinstates_and_charges_the_fee_then_B4(world: Any) -> None:
    _, term, renewal = seed_000_contract(world)
    runs.billing_run(today=date(2026, 4, 2), now=NOW)
    result = services.payment_record(
        organization=world.acme, amount=renewal.total, currency="USD",
        received_on=date(2026, 5, 1), now=NOW,
    )  # fmt: skip
    assert [c.pk for c in result.reinstated] == [term.pk]
    assert fees() == [Decimal("7000.00")]  # 30 days past the end of the term
    fee = InvoiceLine.objects.get(kind="reinstatement_fee").invoice
    assert fee.issue_date == date(2026, 5, 1) and fee.state == "issued"


def test_active_contract_cannot_be_reinstated(world: Any) -> None:
    contract = enterprise(world, start=date(2025, 4, 1))
    with pytest.raises(Conflict, match="nothing to reinstate"):
        services_reinstatement.contract_reinstate(contract=contract, on=date(2025, 5, 1), now=NOW)


def lapsed_subscription(world: Any, *, third_party: bool = False) -> Contract:
    per_user_plan(world, "annual")
    lines = [contract_services.LineInput(kind="users", quantity=10, unit_price="24.00")]
    if third_party:
        lines.append(
            contract_services.LineInput(
                kind="other",
                quantity=1,
                unit_price="0.00",
                description="Carrier SIP trunk",
                reactivation_fee="75.00",
            )
        )
    contract = make_contract(
        world.globex, "per_user", start=date(2025, 1, 1), end=date(2026, 1, 1), lines=lines
    )
    return contract_services.contract_transition(
        principal=None, contract=contract, to="lapsed", reason="test lapse", now=NOW
    )


def test_lapsed_renewal_backfills_with_fee_and_third_party_reactivation_B6(world: Any) -> None:
    lapsed = lapsed_subscription(world, third_party=True)
    done = services_reinstatement.contract_reinstate(contract=lapsed, on=date(2026, 3, 10), now=NOW)
    assert done.term.start == date(2026, 1, 1) and done.term.predecessor_id == lapsed.pk
    assert done.invoice is not None
    kinds = list(done.invoice.lines.values_list("kind", "amount"))
    assert kinds == [
        ("subscription", Decimal("2592.00")),  # 10 × 24.00 × 12 − 10 % annual discount
        ("reinstatement_fee", Decimal("129.60")),  # 5 % of one term
        ("reactivation_fee", Decimal("75.00")),  # the SIP trunk's own fee (seed 002)
    ]
    assert done.term.lines.get(kind="other").reactivation_fee == Decimal("75.00")
    # the line says what the fee is a percentage of: no "licence list price" here (B-1)
    fee = done.invoice.lines.get(kind="reinstatement_fee")
    assert "5 % of one term of the subscription 2,592.00 USD" in fee.description


def test_renewal_of_lapsed_term_must_start_at_its_end_and_activating_it_reinstates_B6(
    world: Any,
) -> None:
    lapsed = lapsed_subscription(world)
    line = contract_services.LineInput(kind="users", quantity=10, unit_price="24.00")
    with pytest.raises(InvalidInput, match="must start on 2026-01-01, not 2026-03-10"):
        make_contract(
            world.globex, "per_user", start=date(2026, 3, 10), predecessor=lapsed,
            state="draft", lines=[line],
        )  # fmt: skip
    with pytest.raises(Conflict, match="reinstate"):
        make_contract(
            world.globex, "per_user", start=date(2026, 1, 1), predecessor=lapsed,
            state="active", lines=[line],
        )  # fmt: skip
    draft = make_contract(
        world.globex, "per_user", start=date(2026, 1, 1), predecessor=lapsed, state="draft",
        lines=[line],
    )  # fmt: skip
    with pytest.raises(Conflict, match="reinstate"):
        contract_services.contract_transition(
            principal=None, contract=draft, to="active", reason="signed", now=NOW
        )
    done = services_reinstatement.contract_reinstate(contract=draft, on=date(2026, 3, 10), now=NOW)
    assert done.term.pk == draft.pk and done.term.state == "active"
    assert done.invoice is not None
    assert [x.kind for x in done.invoice.lines.all()] == ["subscription", "reinstatement_fee"]


# --- through the API ---------------------------------------------------------------------------


def test_api_reinstate_31_days_after_end_charges_5_percent_B4_B6(world: Any, api: Any) -> None:
    contract, term, _ = seed_000_contract(world)
    runs.billing_run(today=date(2026, 4, 2), now=NOW)
    url = f"/contracts/{contract.pk}/reinstate"
    body = {"on": "2026-05-02"}
    assert api(world.alice.user).post(url, body).status_code == 403  # a customer's contact
    assert api(world.agent).post(url, body).status_code == 403  # staff without billing role
    assert api(world.rival_agent).post(url, body).status_code == 404  # another vendor
    clerk = api(clerk_user(world))
    preview = clerk.post(url, {**body, "dry_run": True})
    assert preview.status_code == 200, preview.content
    assert preview.json()["dry_run"] is True and preview.json()["invoice"] is None
    assert Decimal(preview.json()["total"]) == Decimal("7000.00") and fees() == []
    response = clerk.post(url, body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["term"] == {"id": term.pk, "start": "2026-04-01", "end": "2027-04-01",
                           "state": "active"}  # fmt: skip
    assert (out["past_due_since"], out["days_past_due"]) == ("2026-04-01", 31)
    assert [(x["kind"], Decimal(x["amount"])) for x in out["invoice"]["lines"]] == [
        ("reinstatement_fee", Decimal("7000.00"))
    ]
    again = clerk.post(url, body)
    assert again.status_code == 409 and again.json()["detail"]


def test_api_contract_with_lapsed_predecessor_names_the_date_and_activation_reinstates_B6(
    world: Any, api: Any
) -> None:
    lapsed = lapsed_subscription(world)
    clerk = api(clerk_user(world))
    payload = {
        "organization": world.globex.pk, "plan": lapsed.plan.slug, "predecessor": lapsed.pk,
        "start": "2026-03-10", "state": "draft",
        "lines": [{"kind": "users", "quantity": 10, "unit_price": "24.00"}],
    }  # fmt: skip
    refused = clerk.post("/contracts", payload)
    assert refused.status_code == 400 and "2026-01-01" in refused.json()["detail"]
    created = clerk.post("/contracts", {**payload, "start": "2026-01-01"})
    assert created.status_code == 201, created.content
    draft = created.json()["id"]
    moved = clerk.post(f"/contracts/{draft}/transition", {"to": "active", "reason": "signed"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["state"] == "active" and moved.json()["start"] == "2026-01-01"
    inv = Invoice.objects.get(contract_id=draft)
    assert inv.lines.filter(kind="reinstatement_fee").exists()  # exactly as reinstate


def test_cli_billing_reinstate_previews_then_reinstates_B6(world: Any, capsys: Any) -> None:
    lapsed = lapsed_subscription(world)
    argv = ["billing", "reinstate", str(lapsed.pk), "--date", "2026-03-10"]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "reinstatement fee" in out.lower() and "129.60" in out
    assert not Invoice.objects.exists()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "INV-000001" in out and "2026-01-01" in out
    assert main(argv) == 1  # once


def test_console_reinstate_shows_preview_then_reinstates_B6(world: Any, client: Any) -> None:
    lapsed = lapsed_subscription(world)
    url = reverse("console:billing:reinstate", args=[lapsed.pk])
    client.force_login(world.rival_agent)
    assert client.get(url).status_code == 404
    client.force_login(clerk_user(world))
    org_page = client.get(reverse("console:billing:organization", args=[world.globex.pk]))
    assert url in org_page.content.decode()
    page = client.get(url, {"on": "2026-03-10"}).content.decode()
    assert "129.60" in page and "2026-01-01" in page and not Invoice.objects.exists()
    response = client.post(url, {"on": "2026-03-10"})
    assert response.status_code == 302
    assert Invoice.objects.get().lines.filter(kind="reinstatement_fee").exists()

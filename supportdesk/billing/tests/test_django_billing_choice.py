"""The customer's choice of monthly or annual-with-discount billing per contract (B-5): set in
the portal, the console or the API, it changes the billing from the next term not yet
invoiced, and the billing run bills each term the way chosen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from supportdesk.billing import (
    runs,
    selectors,
    services,
    services_choices,
    services_subscriptions,
)
from supportdesk.billing.models import BillingChoice, Invoice
from supportdesk.billing.tests.test_django_subscriptions import billing_clerk, subscription
from supportdesk.contracts.models import Contract
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.tenancy import principal_for
from tests.factories import make_contact

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def administrator(world: Any, org: Any = None) -> Any:
    contact = make_contact(org or world.acme, "Ada", "ada@acme.example")
    Contact = type(contact)
    Contact.objects.filter(pk=contact.pk).update(role="administrator")
    contact.refresh_from_db()
    return contact


def pay(world: Any, amount: str, on: date) -> None:
    services.payment_record(
        organization=world.acme, amount=Decimal(amount), currency="USD", received_on=on, now=NOW
    )


def invoices_of(contract: Contract) -> list[tuple[date, Decimal]]:
    rows = Invoice.objects.filter(organization=contract.organization).exclude(number=None)
    return sorted(
        (line.period_start, inv.total)
        for inv in rows
        for line in inv.lines.all()[:1]
    )  # fmt: skip


def test_monthly_subscription_switches_to_annual_with_discount_at_the_next_term_B5(world):
    contract = subscription(world, date(2026, 3, 1))  # 7 users × 24.00 a month
    runs.billing_run(today=date(2026, 3, 1), now=NOW)
    view = services_choices.billing_choice_set(
        principal=billing_clerk(world), contract=contract, billing="annual",
        today=date(2026, 6, 10), now=NOW,
    )  # fmt: skip
    assert (view.current, view.next, view.next_from) == ("monthly", "annual", date(2027, 3, 1))
    assert view.annual_discount_percent == "10"
    for month in range(4, 13):  # the rest of the term stays monthly (prepaid, no mid-term change)
        runs.billing_run(today=date(2026, month, 1), now=NOW)
    runs.billing_run(today=date(2027, 1, 1), now=NOW)
    runs.billing_run(today=date(2027, 2, 1), now=NOW)  # + the renewal, one month ahead (B-3)
    runs.billing_run(today=date(2027, 4, 1), now=NOW)
    billed = invoices_of(contract)
    monthly = [total for start, total in billed if start < date(2027, 3, 1)]
    assert monthly == [Decimal("168.00")] * 12
    later = [(start, total) for start, total in billed if start >= date(2027, 3, 1)]
    assert later == [(date(2027, 3, 1), Decimal("1814.40"))]  # 7 × 24 × 12 less 10 %, once
    renewal = Contract.objects.get(predecessor=contract)
    assert selectors.contract_billing(renewal) == "annual"
    assert selectors.contract_billing(contract) == "monthly"


def test_annual_subscription_switches_to_monthly_instalments_at_the_next_term_B5(world):
    contract = subscription(world, date(2026, 3, 1), billing="annual")
    runs.billing_run(today=date(2026, 3, 1), now=NOW)
    services_choices.billing_choice_set(
        principal=billing_clerk(world), contract=contract, billing="monthly",
        today=date(2026, 9, 1), now=NOW,
    )  # fmt: skip
    pay(world, "1814.40", date(2026, 3, 5))
    runs.billing_run(today=date(2027, 2, 1), now=NOW)
    pay(world, "168.00", date(2027, 2, 5))
    runs.billing_run(today=date(2027, 4, 1), now=NOW)
    assert invoices_of(contract) == [
        (date(2026, 3, 1), Decimal("1814.40")),
        (date(2027, 3, 1), Decimal("168.00")),  # the renewal is the first instalment
        (date(2027, 4, 1), Decimal("168.00")),
    ]


def test_a_choice_after_the_renewal_is_invoiced_waits_for_the_term_after_B5(world):
    contract = subscription(world, date(2026, 3, 1))
    runs.billing_run(today=date(2027, 2, 1), now=NOW)  # the 2027 renewal is out (monthly)
    clerk = billing_clerk(world)
    view = services_choices.billing_choice_set(
        principal=clerk, contract=contract, billing="annual",
        today=date(2027, 2, 10), now=NOW,
    )  # fmt: skip
    assert view.next_from == date(2028, 3, 1) and view.next == "annual"
    # a later change of mind replaces the earlier choice from its day on
    view = services_choices.billing_choice_set(
        principal=clerk, contract=contract, billing="monthly",
        today=date(2027, 2, 11), now=NOW,
    )  # fmt: skip
    assert view.next == "monthly" and BillingChoice.objects.count() == 2  # history kept


def test_only_the_customers_administrator_or_billing_staff_choose_B5(world):
    contract = subscription(world, date(2026, 3, 1))
    today = date(2026, 4, 1)
    for principal in (principal_for(world.agent), world.principal(world.alice)):
        with pytest.raises(Forbidden):
            services_choices.billing_choice_set(
                principal=principal, contract=contract, billing="annual", today=today, now=NOW
            )
    ada = administrator(world)
    view = services_choices.billing_choice_set(
        principal=world.principal(ada), contract=contract, billing="annual", today=today,
        now=NOW,
    )  # fmt: skip
    assert view.next == "annual"
    assert BillingChoice.objects.get().chosen_by_id == ada.user_id
    with pytest.raises(InvalidInput, match="monthly or annual"):
        services_choices.billing_choice_set(
            principal=billing_clerk(world), contract=contract, billing="weekly", today=today,
            now=NOW,
        )  # fmt: skip


def test_a_subscription_is_signed_with_the_billing_the_customer_chose_B5(world):
    from supportdesk.billing.tests.test_django_subscriptions import per_user_plan

    plan = per_user_plan(world, "monthly")
    contract, invoice = services_subscriptions.subscription_start(
        organization=world.acme, plan=plan, users=5, invoice_date=date(2026, 3, 1), now=NOW,
        principal=billing_clerk(world), billing="annual",
    )  # fmt: skip
    assert invoice.total == Decimal("1296.00")  # 5 × 259.20, annual with the 10 % discount
    assert selectors.contract_billing(contract) == "annual"
    runs.billing_run(today=date(2026, 4, 1), now=NOW)  # no April instalment for an annual term
    assert Invoice.objects.filter(contract=contract).count() == 1


def test_billing_choice_through_the_api_with_tenancy_B5(world, api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 4, 1, 12, tzinfo=UTC))
    contract = subscription(world, date(2026, 3, 1))
    ada = administrator(world)
    client = api(ada.user)
    got = client.get(f"/contracts/{contract.pk}/billing")
    assert got.status_code == 200, got.content
    assert got.json() | {} == {
        "contract": contract.pk, "current": "monthly", "next_from": "2027-03-01",
        "next": "monthly", "annual_discount_percent": "10", "choosable": True, "why_not": "",
    }  # fmt: skip
    chosen = client.post(f"/contracts/{contract.pk}/billing", {"billing": "annual"})
    assert chosen.status_code == 200 and chosen.json()["next"] == "annual"
    bad = client.post(f"/contracts/{contract.pk}/billing", {"billing": "weekly"})
    assert 400 <= bad.status_code < 500
    gina = api(world.gina.user)  # another customer
    assert gina.get(f"/contracts/{contract.pk}/billing").status_code == 404
    assert gina.post(f"/contracts/{contract.pk}/billing", {"billing": "monthly"}).status_code == 404
    rival = api(world.rival_agent)
    assert rival.get(f"/contracts/{contract.pk}/billing").status_code == 404


def test_billing_choice_in_the_portal_and_the_console_B5(world, client, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 4, 1, 12, tzinfo=UTC))
    contract = subscription(world, date(2026, 3, 1))
    ada = administrator(world)
    client.force_login(ada.user)
    page = client.get("/portal/invoices/").content.decode()
    assert "How subscriptions are billed" in page and 'name="billing"' in page
    action = f"/portal/invoices/{contract.pk}/billing/"
    assert action in page
    assert client.post(action, {"billing": "annual"}).status_code == 302
    view = selectors.billing_choice_view(contract=contract, today=date(2026, 4, 1))
    assert view.next == "annual"
    clerk = billing_clerk(world)
    from supportdesk.accounts.models import User

    client.force_login(User.objects.get(pk=clerk.user_id))
    page = client.get(f"/console/billing/organizations/{world.acme.pk}/").content.decode()
    assert (
        "billed <strong>monthly</strong> now" in page
        and "<strong>annual</strong> from 2027-03-01" in page
    )
    action = f"/console/billing/contracts/{contract.pk}/billing/"
    assert action in page
    assert client.post(action, {"billing": "monthly"}).status_code == 302
    assert (
        selectors.billing_choice_view(contract=contract, today=date(2026, 4, 1)).next == "monthly"
    )


def test_a_contract_without_billing_settings_reads_and_refuses_with_a_message_B5(world, api):
    from supportdesk.contracts.tests.django_helpers import make_contract

    enterprise = make_contract(world.acme, "enterprise", start=date(2026, 3, 1))
    client = api(world.agent)
    got = client.get(f"/contracts/{enterprise.pk}/billing")
    assert got.status_code == 200, got.content
    assert (
        got.json()["choosable"] is False and "not a per-user subscription" in got.json()["why_not"]
    )
    assert got.json()["annual_discount_percent"] == "0"
    clerk = billing_clerk(world)
    with pytest.raises(InvalidInput, match="not a per-user subscription"):
        services_choices.billing_choice_set(
            principal=clerk, contract=enterprise, billing="monthly", today=date(2026, 4, 1),
            now=NOW,
        )  # fmt: skip

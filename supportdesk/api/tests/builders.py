"""Objects for the generated API tests: each builder makes one object owned by an organisation
(and its vendor) through the services, and returns the id the API's path parameter takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from supportdesk.billing import services as billing_services
from supportdesk.billing.domain.lines import LineKind, PriceLine
from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import BillingRunKey, Invoice
from supportdesk.contracts.models import Release
from supportdesk.contracts.tests.django_helpers import make_contract, make_product
from supportdesk.customers.models import Organization
from supportdesk.oncall.domain.escalation import emergency_chain
from supportdesk.oncall.models import ChainRun, RunReason
from supportdesk.oncall.services.schedules import schedule_save
from tests.factories import NOW, make_ticket


def contact_of(world: Any, org: Organization) -> Any:
    return {world.acme.pk: world.alice, world.globex.pk: world.gina}.get(org.pk, world.rex)


def _ticket(world: Any, org: Organization) -> int:
    return make_ticket(world, contact_of(world, org)).ref


def _contract(world: Any, org: Organization) -> int:
    return make_contract(org).pk


def _release(world: Any, org: Organization) -> int:
    product = make_product(org.vendor, name=f"Product {org.pk}")
    version = product.versions.get(is_current=True)
    return Release.objects.create(version=version, name="10.2.1", shipped_on=NOW.date()).pk


def _schedule(world: Any, org: Organization) -> int:
    return schedule_save(
        vendor=org.vendor, slug=f"s{org.pk}", name="Primary", spec={"layers": []}, now=NOW
    ).pk


def _run(world: Any, org: Organization) -> int:
    ticket = make_ticket(world, contact_of(world, org))
    chain = emergency_chain(schedule="primary").to_spec()
    return ChainRun.objects.create(
        vendor=org.vendor, ticket=ticket, chain=chain, reason=RunReason.PHONE,
        ack_code=f"{org.pk:08d}", started_at=NOW, ends_at=NOW + timedelta(hours=1),
    ).pk  # fmt: skip


def issued_invoice(org: Organization) -> Invoice:
    money = Money(Decimal("10.00"), "USD")
    line = PriceLine("Support", Decimal(1), money, money, None, None, LineKind.SUPPORT_FIXED)
    draft = billing_services.invoice_draft_create(
        vendor=org.vendor, organization=org, currency="USD",
        lines=[billing_services.LineInput(line)], now=NOW,
    )  # fmt: skip
    return billing_services.invoice_issue(invoice=draft, issue_date=NOW.date(), now=NOW)


def _invoice(world: Any, org: Organization) -> int:
    return int(issued_invoice(org).number or 0)


def _suspension_request(world: Any, org: Organization) -> int:
    return BillingRunKey.objects.create(
        vendor=org.vendor, subject=f"org-{org.pk}", purpose="suspension_approval",
        on=NOW.date(), invoice=issued_invoice(org), run_date=NOW.date(), created_at=NOW,
    ).pk  # fmt: skip


# Path parameter name → (builds an object owned by `org` and its vendor and returns its id,
# whether the object belongs to an organisation or to the vendor as a whole).
BUILDERS: dict[str, tuple[Callable[[Any, Organization], int], str]] = {
    "ref": (_ticket, "organization"),
    "org_id": (lambda world, org: org.pk, "organization"),
    "contract_id": (_contract, "organization"),
    "number": (_invoice, "organization"),
    "release_id": (_release, "vendor"),
    "schedule_id": (_schedule, "vendor"),
    "run_id": (_run, "vendor"),
    "request_id": (_suspension_request, "vendor"),
}

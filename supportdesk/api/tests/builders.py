"""Objects for the generated API tests: each builder makes one object owned by an organisation
(and its vendor) through the services, and returns the id the API's path parameter takes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from supportdesk.accounts.models import User
from supportdesk.assets import services_rma
from supportdesk.assets.tests.backup_helpers import some_backup, some_device, some_token
from supportdesk.assets.tests.factories import make_asset, make_model
from supportdesk.billing import services as billing_services
from supportdesk.billing.domain.lines import LineKind, PriceLine
from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import BillingRunKey, Invoice, UserCountChange
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.domain.specs import plan_to_spec
from supportdesk.contracts.models import Contract, Release
from supportdesk.contracts.tests.django_helpers import PRESETS, START, make_contract, make_product
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Organization
from supportdesk.customers.services import contact_create
from supportdesk.kb import services as kb_services
from supportdesk.kb.services_downloads import release_file_upload
from supportdesk.monitoring.models import Alert, AlertStatus, Integration
from supportdesk.monitoring.services_integrations import integration_create
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


def _article(world: Any, org: Organization) -> int:
    """A published article of the vendor that any of its customers' contacts may read."""
    staff = User.objects.filter(vendor=org.vendor, is_staff=True).order_by("pk").first()
    article = kb_services.article_create(
        principal=principal_for(staff), vendor=org.vendor, title=f"Article {next(_serial)}",
        body="Restart the fax modem pool.", visibility="customers", now=NOW,
    )  # fmt: skip
    kb_services.article_status_change(
        principal=principal_for(staff), article=article, status="published", now=NOW
    )
    return article.pk


def _release(world: Any, org: Organization) -> int:
    """A release of the vendor's with a file (K-3), so download links get past their 404."""
    product = make_product(org.vendor, name=f"Product {org.pk}")
    version = product.versions.get(is_current=True)
    release = Release.objects.create(version=version, name="10.2.1", shipped_on=NOW.date())
    release_file_upload(
        principal=None, release=release, upload=ContentFile(b"release bytes"),
        filename="setup.bin", now=NOW,
    )  # fmt: skip
    return release.pk


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


_serial = itertools.count(1)


def _integration(world: Any, org: Organization) -> int:
    """The vendor's monitoring integration."""
    integration = Integration.objects.filter(vendor=org.vendor, name="Monitoring").first()
    if integration is None:
        integration, _ = integration_create(
            principal=None, vendor=org.vendor, name="Monitoring", now=NOW
        )
    return integration.pk


def _alert(world: Any, org: Organization) -> int:
    """A firing alert of the vendor's monitoring, matched to `org`."""
    integration = Integration.objects.get(pk=_integration(world, org))
    return Alert.objects.create(
        vendor=org.vendor, integration=integration, fingerprint=f"fp-{next(_serial)}",
        organization=org, status=AlertStatus.FIRING, severity="critical",
        summary="Disk full", labels={"host": f"srv-{org.pk}"}, event_count=1,
        first_fired_at=NOW, last_event_at=NOW,
    ).pk  # fmt: skip


def _count_change(world: Any, org: Organization) -> int:
    """A proposed inventory count change of `org`'s per-user subscription (B-5, E-9)."""
    per_user = Contract.objects.filter(organization=org, plan__slug=PRESETS["per_user"].plan_id)
    contract = per_user.order_by("pk").first() or make_contract(org)  # one term at a time
    return UserCountChange.objects.create(
        vendor=org.vendor, organization=org, contract=contract, counted_at=NOW,
        effective_on=NOW.date(), users_before=10, users_after=12,
    ).pk  # fmt: skip


def _contact(world: Any, org: Organization) -> int:
    """A contact of `org` without a portal login yet (invitable)."""
    n = next(_serial)
    return contact_create(
        organization=org, name=f"Invitee {n}", emails=[f"invitee{n}@org{org.pk}.example"]
    ).pk


def _plan(world: Any, org: Organization) -> int:
    """A plan of the vendor's that only `org`'s contract uses: staff of the vendor see it, of
    the customers only `org`'s contacts (plans of their own contracts)."""
    rules = PRESETS["enterprise"]
    plan = contract_services.plan_create(
        vendor=org.vendor, slug=f"plan-{next(_serial)}", name=f"Plan of {org.name}",
        kind=rules.kind.value, rules=plan_to_spec(rules, identity=False), now=NOW,
    )  # fmt: skip
    contract_services.contract_create(
        principal=None, organization=org, plan=plan, start=START, end=None, state="active",
        now=NOW,
    )  # fmt: skip
    return plan.pk


def _hardware_model(world: Any, org: Organization) -> int:
    """A model only `org`'s device is of: a contact sees the models of its own devices."""
    model = make_model(org, name=f"Model {next(_serial)}")
    make_asset(org, model=model)
    return model.pk


def _rma(world: Any, org: Organization) -> int:
    """A return-to-factory RMA of `org`'s device, started from one of its tickets."""
    asset = make_asset(org)
    staff = principal_for(world.agent if org.vendor_id == world.vendor.pk else world.rival_agent)
    ticket = make_ticket(world, contact_of(world, org))
    return services_rma.rma_start(
        principal=staff, ticket=ticket, asset=asset, kind="return_to_factory", now=NOW
    ).pk


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
    "alert_id": (_alert, "organization"),
    "integration_id": (_integration, "vendor"),
    "change_id": (_count_change, "organization"),
    "contact_id": (_contact, "organization"),
    # A plan is the vendor's, but a contact sees only the plans of its own contracts.
    "plan": (_plan, "organization"),
    # Devices (H-1, H-4): the organisation's first device, so a request's asset, backup and
    # token parameters all name the same device.
    "asset_id": (lambda world, org: some_device(org).pk, "organization"),
    "backup_id": (some_backup, "organization"),
    "token_id": (some_token, "organization"),
    "model_id": (_hardware_model, "organization"),
    "rma_id": (_rma, "organization"),
    "article_id": (_article, "vendor"),
}

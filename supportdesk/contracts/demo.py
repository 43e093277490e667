"""Demo plans, contracts (one in every state), DSEs, releases, inventory and time entries.

Called by `demo.load._load_vendor` once the vendor's staff, products and customers exist and
before its tickets are created, so those tickets get their entitlement decided at intake.
Everything goes through the services; a vendor that already has plans is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from supportdesk.accounts.models import User
from supportdesk.contracts import services
from supportdesk.contracts.domain.caps import add_years
from supportdesk.contracts.domain.plans import ENTERPRISE_PLAN, HOURLY_PLAN, PER_USER_PLAN
from supportdesk.contracts.domain.plans import PlanRules as DomainPlan
from supportdesk.contracts.domain.specs import plan_to_spec
from supportdesk.contracts.models import Contract, Plan, Product, ProductVersion
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, principal_for
from supportdesk.customers.models import Organization
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.tickets import services as tickets

CEDAR_INVENTORY = {
    "devices": [
        {"id": "D1", "kind": "desk_phone", "person": "kim", "extension": "201"},
        {"id": "D2", "kind": "cordless", "extension": "202"},
        {"id": "D3", "kind": "conference", "extension": "300"},
        {"id": "D4", "kind": "fax_ata", "extension": "400"},
        {"id": "D5", "kind": "softphone", "person": "raj"},
    ],
    "extensions": [
        {"id": "201", "kind": "user", "can_call": True, "can_receive": True, "person": "kim"},
        {"id": "202", "kind": "user", "can_call": True, "can_receive": True, "person": "lou"},
        {"id": "300", "kind": "user", "can_call": True, "can_receive": True},
        {"id": "400", "kind": "user", "can_receive": True},
        {"id": "500", "kind": "voicemail"},
        {"id": "600", "kind": "ivr_menu"},
    ],
    "people": [
        {"id": "kim", "name": "Kim Nguyen", "uses_app": True},
        {"id": "lou", "name": "Lou Baker"},
        {"id": "raj", "name": "Raj Patel", "uses_app": True},
    ],
}


def _plan(vendor: Vendor, rules: DomainPlan, now: datetime, **pricing: Decimal) -> Plan:
    return services.plan_create(
        vendor=vendor,
        slug=rules.plan_id,
        name=rules.name,
        kind=rules.kind.value,
        rules=plan_to_spec(rules, identity=False),
        now=now,
        **pricing,  # type: ignore[arg-type]
    )


def _org(vendor: Vendor, name: str) -> Organization:
    return Organization.objects.get(vendor=vendor, name=name)


def _contract(
    org: Organization,
    plan: Plan,
    start: date,
    now: datetime,
    *,
    reference: str,
    moves: tuple[tuple[str, str], ...] = (),
    state: str = "active",
    lines: tuple[services.LineInput, ...] = (),
    predecessor: Contract | None = None,
    addons: tuple[str, ...] = (),
) -> Contract:
    contract = services.contract_create(
        principal=None, organization=org, plan=plan, start=start, end=add_years(start, 1),
        state=state, lines=lines, reference=reference, predecessor=predecessor, now=now,
        reason="demo data", addons=addons,
    )  # fmt: skip
    for to, reason in moves:
        contract = services.contract_transition(
            principal=None, contract=contract, to=to, reason=reason, now=now
        )
    return contract


def _history_ticket(
    vendor: Vendor, staff: Principal, email: str, subject: str, at: datetime, **fields: str
) -> int:
    contact = contact_find_by_email(vendor_id=vendor.pk, address=email)
    assert contact is not None
    ticket = tickets.ticket_create(
        principal=staff, vendor=vendor, organization=contact.organization, requester=contact,
        subject=subject, body=f"Logged from a call: {subject.lower()}.", priority="P3",
        channel=fields.get("channel", "phone"), caller_number="", now=at,
    )  # fmt: skip
    if category := fields.get("category"):
        services.ticket_category_set(principal=staff, ticket=ticket, category=category, now=at)
    tickets.ticket_status_change(ticket=ticket, principal=staff, status="resolved", now=at)
    return ticket.pk


def _staff(vendor: Vendor, email: str | None = None) -> User:
    qs = User.objects.filter(vendor=vendor, is_staff=True)
    user = qs.filter(email=email).first() if email else qs.order_by("pk").first()
    assert user is not None, f"demo staff {email} missing"
    return user


def _versions(product: Product, today: date, ages: dict[str, int]) -> dict[str, ProductVersion]:
    found = {}
    for version in product.versions.all():
        if version.version in ages:
            services.product_version_set_released(
                version=version, released_on=today - timedelta(days=ages[version.version])
            )
        found[version.version] = version
    return found


def _enterprise(vendor: Vendor, now: datetime, today: date) -> None:
    plan = _plan(
        vendor, ENTERPRISE_PLAN, now, price_percent_of_list=Decimal(30), price_fixed=Decimal(25000)
    )
    product = Product.objects.get(vendor=vendor, name="FaxRoute Server")
    versions = _versions(product, today, {"9.5": 900, "10.0": 500, "10.1": 120})
    for version, name, days, kind in (
        ("9.5", "9.5.3", 700, "maintenance"),  # outside the support window (E-6)
        ("10.1", "10.1.0", 120, "major"),
        ("10.1", "10.1.1", 20, "maintenance"),
    ):
        services.release_create(
            version=versions[version], name=name, shipped_on=today - timedelta(days=days),
            kind=kind,
        )  # fmt: skip
    services.release_create(
        version=versions["10.1"], name="10.1 Advanced Routing (upgrade)",
        shipped_on=today - timedelta(days=10), upgrade_sold_separately=True, kind="major",
    )  # fmt: skip
    licence = services.LineInput(
        kind="licence", quantity=1, unit_price=Decimal("80000.00"), product=product,
        description="FaxRoute Server enterprise licence",
    )  # fmt: skip
    acme, globex = _org(vendor, "Acme Insurance"), _org(vendor, "Globex Legal")
    _contract(acme, plan, today - timedelta(days=200), now, reference="NW-ACME-1", lines=(licence,))
    _contract(
        _org(vendor, "Hooli Couriers"), plan, today - timedelta(days=40), now,
        reference="NW-HOOLI-1", lines=(licence,),
    )  # fmt: skip
    _contract(
        globex, plan, today - timedelta(days=420), now, reference="NW-GLOBEX-0", state="draft",
        moves=(("cancelled", "superseded by the signed contract"),), lines=(licence,),
    )  # fmt: skip
    _contract(
        globex, plan, today - timedelta(days=335), now, reference="NW-GLOBEX-1", lines=(licence,),
        moves=(("past_due", "renewal invoice unpaid at its due date"),),
    )  # fmt: skip
    dse, backup = (
        _staff(vendor, "dana.dse@northwind.example"),
        _staff(vendor, "omar.dse@northwind.example"),
    )
    for org in (acme, globex):
        services.support_assignment_set(
            principal=None, organization=org, dse=dse, backup=backup, now=now
        )
    staff = principal_for(_staff(vendor, "agent@northwind.example"))
    at = now - timedelta(days=14)
    ref = _history_ticket(
        vendor, staff, "alice@acme-insurance.example", "Installation help for FaxRoute 10.1", at,
        category="installation",
    )  # fmt: skip
    services.time_entry_add(
        principal=None, ticket=tickets.Ticket.objects.get(pk=ref), engineer=dse,
        started_at=at, minutes=90, work_kind="phone", category="installation", now=now,
        note="Walked the customer through the 10.1 installer by phone.",
    )  # fmt: skip


def _msp(vendor: Vendor, now: datetime, today: date) -> None:
    plan = _plan(vendor, HOURLY_PLAN, now)
    _contract(_org(vendor, "Bayou Dental Group"), plan, today - timedelta(days=90), now,
              reference="HB-BAYOU-1")  # fmt: skip
    _contract(
        _org(vendor, "Gulf Freight LLC"), plan, today - timedelta(days=300), now,
        reference="HB-GULF-1",
        # seed 001: late payers are chased, never suspended (no enterprise 45-day rule)
        moves=(("past_due", "invoice unpaid at its due date"),),
    )  # fmt: skip
    staff = principal_for(_staff(vendor, "desk@harbor-it.example"))
    at = now - timedelta(days=3)
    ref = _history_ticket(vendor, staff, "erin@bayoudental.example", "New workstation set-up", at)
    services.time_entry_add(
        principal=None, ticket=tickets.Ticket.objects.get(pk=ref),
        engineer=_staff(vendor, "cam.engineer@harbor-it.example"), started_at=at, minutes=75,
        work_kind="on_site", category="installation", now=now,
    )  # fmt: skip


def _phones(vendor: Vendor, now: datetime, today: date) -> None:
    plan = _plan(vendor, PER_USER_PLAN, now, per_user_price=Decimal("24.00"))
    product = Product.objects.get(vendor=vendor, name="Bluebell PBX")
    versions = _versions(product, today, {"7.1.9": 700, "7.1.10": 400, "8.0": 60})
    services.release_create(
        version=versions["8.0"], name="8.0.2", shipped_on=today - timedelta(days=5)
    )
    users = services.LineInput(kind="users", quantity=7, unit_price=Decimal("24.00"),
                               description="Counted users (E-9)")  # fmt: skip
    cedar, pine = _org(vendor, "Cedar Veterinary Clinic"), _org(vendor, "Pine Street Realty")
    _contract(
        cedar, plan, today - timedelta(days=100), now, reference="BB-CEDAR-1", lines=(users,),
        addons=("softphone_app",),  # seed 002: the softphone app is an add-on
    )  # fmt: skip
    ended = _contract(
        pine, plan, today - timedelta(days=400), now, reference="BB-PINE-1", lines=(users,)
    )
    _contract(
        pine, plan, ended.end, now, reference="BB-PINE-2", state="draft", lines=(users,),
        predecessor=ended,
    )  # fmt: skip
    # The renewal quote was never signed, so the expiry sweep records the lapse (E-10).
    services.contract_expire(contract_id=ended.pk, now=now)
    services.inventory_put(principal=None, organization=cedar, data=CEDAR_INVENTORY, now=now)
    staff = principal_for(_staff(vendor, "rep@bluebell-phones.example"))
    for days in (40, 25, 12):
        at = now - timedelta(days=days)
        ref = _history_ticket(vendor, staff, "kim@cedarvet.example", "Handset shows no service", at)
        services.time_entry_add(
            principal=None, ticket=tickets.Ticket.objects.get(pk=ref),
            engineer=_staff(vendor, "tech@bluebell-phones.example"), started_at=at, minutes=20,
            work_kind="phone", category="problem", now=now,
        )  # fmt: skip


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    """Add the entitlement side of one preset; a no-op when the vendor already has plans."""
    if Plan.objects.filter(vendor=vendor).exists():
        return
    builder = {"enterprise": _enterprise, "msp": _msp, "phones": _phones}.get(slug)
    if builder is not None:
        builder(vendor, now, now.astimezone(vendor_tz(vendor.timezone)).date())

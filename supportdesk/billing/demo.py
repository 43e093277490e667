"""Demo billing: rate cards, plan billing settings, and five months of billing runs, so that
every preset ships issued (not yet due), paid, past-due and suspended invoices (B-1 … B-8).

Called by `demo.load._load_vendor` after the contracts demo; everything goes through the
services and the billing run, replayed on the first of each of the last four months and
today. A vendor that already has rate cards is left alone (idempotent).

Per preset
    enterprise — Acme pays; Globex Legal does not: a suspension that the billing clerk
    approves; Initech Manufacturing waits in the approval queue; Umbrella Logistics has just
    been invoiced; Wayne Aerospace left its renewal unpaid past the end of its term (the
    past-due clock starts there, seed 000) and is reinstated 35 days later with the 5 % fee.
    msp — hourly work each month for Bayou Dental (pays) and Gulf Freight (does not; its
    hourly agreement is past due — the MSP charges no reinstatement fee and never suspends,
    seed 001); this month's invoices are not yet due.
    phones — Cedar Veterinary pays its monthly instalments; Maple Dental Suite chose annual
    billing with the 10 % discount (B-5), never paid, and its subscription was suspended
    automatically at 45 days; Birch Family Practice's lapsed
    subscription is reinstated by activating its prepared renewal: backfilled to the
    original expiry, with the reinstatement fee (B-6).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from supportdesk.accounts.models import User
from supportdesk.billing import (
    runs,
    selectors,
    services,
    services_reinstatement,
    services_subscriptions,
)
from supportdesk.billing.domain.periods import add_months
from supportdesk.billing.models import Invoice, InvoiceState, PlanBilling, RateCard
from supportdesk.billing.services_choices import billing_choice_record
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, Plan, PlanKind, Product, SupportAssignment
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Organization
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.customers.services import organization_create
from supportdesk.tickets import services as tickets

RATES = {  # business, after hours, weekend, holiday (B-7)
    "enterprise": ("250", "375", "375", "500"),
    "msp": ("150", "225", "250", "300"),
    "phones": ("95", "142.50", "142.50", "190"),
}
PAYERS = {  # organisations that pay what they are invoiced, five days after each run
    "enterprise": ("Acme Insurance",),
    "msp": ("Bayou Dental Group",),
    "phones": ("Cedar Veterinary Clinic", "Birch Family Practice"),
}
HOURLY_WORK = {  # contact whose company is billed by the hour, engineer who did the work
    "msp": (
        ("erin@bayoudental.example", "cam.engineer@harbor-it.example"),
        ("gina@gulffreight.example", "cam.engineer@harbor-it.example"),
    ),
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _run_dates(today: date) -> list[date]:
    """The first of each of the last four months, this month's first, and today."""
    first = today.replace(day=1)
    return sorted({add_months(first, -k) for k in range(4, -1, -1)} | {today})


def _billing_staff(vendor: Vendor) -> User | None:
    staff = User.objects.filter(vendor=vendor, is_staff=True, roles__role="billing")
    return staff.order_by("pk").first()


def _org(vendor: Vendor, name: str) -> Organization:
    found = Organization.objects.filter(vendor=vendor, name=name).first()
    return found or organization_create(vendor=vendor, name=name)


def _dse_assigned(vendor: Vendor, name: str, now: datetime) -> Organization:
    """An enterprise customer with its Dedicated Support Engineer and backup (E-2), the same
    pair as the preset's other enterprise customers."""
    org = _org(vendor, name)
    pair = SupportAssignment.objects.filter(organization__vendor=vendor).order_by("pk").first()
    if pair is not None:
        contract_services.support_assignment_set(
            principal=None, organization=org, dse=pair.dse, backup=pair.backup, now=now
        )
    return org


def _enterprise_customers(vendor: Vendor, today: date, now: datetime) -> None:
    plan = Plan.objects.get(vendor=vendor, kind=PlanKind.ENTERPRISE)
    product = Product.objects.filter(vendor=vendor).order_by("pk").first()
    for name, days_ago, price in (
        ("Initech Manufacturing", 140, "60000.00"),  # unpaid: suspension awaits approval
        ("Umbrella Logistics", 5, "120000.00"),  # signed this week: invoiced today
    ):
        licence = contract_services.LineInput(
            kind="licence", quantity=1, unit_price=Decimal(price), product=product,
            description="FaxRoute Server enterprise licence",
        )  # fmt: skip
        start = today - timedelta(days=days_ago)
        contract_services.contract_create(
            principal=None, organization=_dse_assigned(vendor, name, now), plan=plan, start=start,
            end=add_months(start, 12), state="active", lines=[licence],
            reference=f"NW-{name.split()[0].upper()}-1", now=now, reason="demo data",
        )  # fmt: skip


def _enterprise_lapsing(vendor: Vendor, today: date, now: datetime) -> Contract:
    """Wayne Aerospace: a term that ended 35 days ago; its renewal is invoiced by the runs."""
    plan = Plan.objects.get(vendor=vendor, kind=PlanKind.ENTERPRISE)
    product = Product.objects.filter(vendor=vendor).order_by("pk").first()
    end = today - timedelta(days=35)
    licence = contract_services.LineInput(
        kind="licence", quantity=1, unit_price=Decimal("90000.00"), product=product,
        description="FaxRoute Server enterprise licence",
    )  # fmt: skip
    return contract_services.contract_create(
        principal=None, organization=_dse_assigned(vendor, "Wayne Aerospace", now), plan=plan,
        start=add_months(end, -12), end=end, state="active", lines=[licence],
        reference="NW-WAYNE-1", now=now, reason="demo data",
    )  # fmt: skip


def _reinstate_wayne(
    vendor: Vendor, contract: Contract, today: date, now: datetime, clerk: User | None
) -> None:
    """Its first term was paid on time; the renewal is unpaid 35 days after the end of the
    term: past due, and the clerk reinstates it (5 % of the licence list price, B-4)."""
    first = Invoice.objects.filter(contract=contract).order_by("number").first()
    if first is None or first.due_date is None:
        return
    services.payment_record(
        organization=contract.organization, amount=first.total, currency=first.currency,
        received_on=first.due_date, now=now, reference="demo wire",
    )  # fmt: skip
    runs.billing_run(today=today, now=now, vendor=vendor)  # the renewal is now the one chased
    services_reinstatement.contract_reinstate(
        contract=contract, on=today, now=now, principal=principal_for(clerk) if clerk else None
    )


def _phones_customers(vendor: Vendor, today: date, now: datetime) -> None:
    plan = Plan.objects.get(vendor=vendor, kind=PlanKind.PER_USER)
    users = contract_services.LineInput(
        kind="users", quantity=6, unit_price=plan.per_user_price or Decimal("24.00"),
        description="Counted users (E-9)",
    )  # fmt: skip
    start = today - timedelta(days=130)
    maple = contract_services.contract_create(
        principal=None, organization=_org(vendor, "Maple Dental Suite"), plan=plan,
        start=start, end=add_months(start, 12), state="active", lines=[users],
        reference="BB-MAPLE-1", now=now, reason="demo data",
    )  # fmt: skip
    # the plan offers both (B-5): Maple chose annual billing with the discount when it signed
    billing_choice_record(contract=maple, billing="annual", principal=None, now=now)
    # Birch Family Practice let its subscription lapse 35 days ago; its renewal was prepared
    # and is activated now: a reinstatement, backfilled to the expiry with the fee (B-6)
    birch = _org(vendor, "Birch Family Practice")
    end = today - timedelta(days=35)
    lapsed = contract_services.contract_create(
        principal=None, organization=birch, plan=plan, start=add_months(end, -12), end=end,
        state="active", lines=[users], reference="BB-BIRCH-1", now=now, reason="demo data",
    )  # fmt: skip
    prepared = contract_services.contract_create(
        principal=None, organization=birch, plan=plan, start=end, end=add_months(end, 12),
        state="draft", lines=[users], reference="BB-BIRCH-2", predecessor=lapsed, now=now,
        reason="renewal quote, not signed in time",
    )  # fmt: skip
    contract_services.contract_expire(contract_id=lapsed.pk, now=now)
    services_reinstatement.contract_reinstate(contract=prepared, on=today, now=now)


def _hourly_work(vendor: Vendor, slug: str, today: date, zone: ZoneInfo, now: datetime) -> None:
    """Two stretches of work a month for each hourly customer: a morning one in business
    hours and an evening one that runs past closing (B-7 splits it)."""
    agent = User.objects.filter(vendor=vendor, is_staff=True).order_by("pk").first()
    assert agent is not None
    staff = principal_for(agent)
    first = today.replace(day=1)
    for email, engineer_email in HOURLY_WORK.get(slug, ()):
        contact = contact_find_by_email(vendor_id=vendor.pk, address=email)
        engineer = User.objects.get(vendor=vendor, email=engineer_email)
        assert contact is not None
        for k in range(4, 0, -1):
            day = add_months(first, -k) + timedelta(days=9)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            at = datetime.combine(day, time(9, 30), tzinfo=zone)
            ticket = tickets.ticket_create(
                principal=staff, vendor=vendor, organization=contact.organization,
                requester=contact, subject=f"Monthly maintenance {day:%B}",
                body="Logged from a call: monthly maintenance visit.", priority="P3",
                channel="phone", caller_number="", now=at,
            )  # fmt: skip
            for start, minutes in ((at, 90), (at.replace(hour=16, minute=15), 120)):
                contract_services.time_entry_add(
                    principal=None, ticket=ticket, engineer=engineer, started_at=start,
                    minutes=minutes, work_kind="on_site", category="problem", now=now,
                )  # fmt: skip
            tickets.ticket_status_change(ticket=ticket, principal=staff, status="resolved", now=at)


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    if RateCard.objects.filter(vendor=vendor).exists():
        return
    business, after, weekend, holiday = RATES.get(slug, RATES["msp"])
    RateCard.objects.create(
        vendor=vendor, name=f"{vendor.name} hourly rates", currency="USD",
        business_rate=Decimal(business), after_hours_rate=Decimal(after),
        weekend_rate=Decimal(weekend), holiday_rate=Decimal(holiday), increment_minutes=15,
        calendar_spec={
            "timezone": vendor.timezone or "UTC",
            "weekly": {day: [["08:00", "17:00"]] for day in WEEKDAYS},
            "holiday_sets": [{"country": "US", "subdiv": None, "observed": True}],
        },
        created_at=now,
    )  # fmt: skip
    for plan in Plan.objects.filter(vendor=vendor, kind=PlanKind.HOURLY_ONLY):
        # seed 001 bills hourly by period: no reinstatement fee, no suspension for late payers
        PlanBilling.objects.get_or_create(
            plan=plan, defaults={"reinstatement_percent": Decimal(0), "suspend_mode": "never"}
        )
    for plan in Plan.objects.filter(vendor=vendor).exclude(kind=PlanKind.HOURLY_ONLY):
        per_user = plan.kind == PlanKind.PER_USER
        PlanBilling.objects.get_or_create(
            plan=plan,
            defaults={
                "billing": "monthly" if per_user else "annual",
                "renewal_lead_months": 1 if per_user else 2,
                "annual_discount_percent": Decimal(10) if per_user else Decimal(0),
                "suspend_mode": "automatic" if per_user else "approval",
                "lapse_after_days": 0 if per_user else None,
                # seed 000: a contract is past due once its term ended unpaid
                "past_due_clock": "due_date" if per_user else "term_end",
            },
        )
    zone = ZoneInfo(str(vendor_tz(vendor.timezone)))
    today = now.astimezone(zone).date()
    if slug == "enterprise":
        _enterprise_customers(vendor, today, now)
        wayne = _enterprise_lapsing(vendor, today, now)
    elif slug == "phones":
        _phones_customers(vendor, today, now)
    _hourly_work(vendor, slug, today, zone, now)
    payers = list(Organization.objects.filter(vendor=vendor, name__in=PAYERS.get(slug, ())))
    for day in _run_dates(today):
        runs.billing_run(today=day, now=now, vendor=vendor)
        paid_on = day + timedelta(days=5)
        if paid_on + timedelta(days=25) >= today:
            continue  # invoices of the last month stay open: issued, not yet due
        for org in payers:
            open_invoices = Invoice.objects.filter(organization=org, state=InvoiceState.ISSUED)
            owed = sum((inv.balance for inv in open_invoices), Decimal(0))
            if owed > 0:
                services.payment_record(
                    organization=org, amount=owed, currency="USD", received_on=paid_on,
                    now=now, reference=f"demo wire {paid_on}",
                )  # fmt: skip
    clerk = _billing_staff(vendor)
    if slug == "enterprise":
        _reinstate_wayne(vendor, wayne, today, now, clerk)
    if clerk is None:
        return
    for request in selectors.suspension_request_list(principal=principal_for(clerk)):
        assert request.invoice is not None
        if request.invoice.organization.name == "Globex Legal":
            services_subscriptions.suspension_request_decide(
                request_id=request.pk, approve=True, now=now, principal=principal_for(clerk),
                reason="renewal unpaid for 45+ days after three reminders",
            )  # fmt: skip

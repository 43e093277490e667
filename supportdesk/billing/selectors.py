"""Reads of billing data, scoped by the requesting principal (house rule 11), and the plan
billing parameters the services and the run share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL

from supportdesk.billing.domain.billing_run import billing_changes, billing_in_force
from supportdesk.billing.domain.money import Money
from supportdesk.billing.domain.periods import add_months
from supportdesk.billing.domain.pricing import Billing, SubscriptionPlan
from supportdesk.billing.models import (
    BillingChoice,
    BillingRunKey,
    CustomerBilling,
    Invoice,
    InvoiceKind,
    InvoiceState,
    Payment,
    PlanBilling,
    UserCountChange,
    UserCountChangeState,
    VendorBilling,
)
from supportdesk.contracts.models import Contract, ContractState, LineKind, Plan, PlanKind
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import Organization

SUSPENSION_REQUEST = "suspension_approval"
SUSPENSION_DECISIONS = ("suspend", "suspension_declined")


def invoice_list(
    *, principal: Principal, state: str | None = None, organization_id: int | None = None
) -> QuerySet[Invoice]:
    """Issued invoices and credit notes (drafts for staff only): a contact sees its
    organisation's, staff their vendor's."""
    qs = scope(
        Invoice.objects.select_related("organization").prefetch_related("lines"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if principal.is_contact:
        qs = qs.exclude(state=InvoiceState.DRAFT)
    if state is not None:
        if state not in InvoiceState.values:
            raise InvalidInput(f"state must be one of {', '.join(InvoiceState.values)}")
        qs = qs.filter(state=state)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs.order_by("-issue_date", "-number", "-pk")


def invoice_get(*, principal: Principal, number: int) -> Invoice:
    """The invoice with this number that the principal may see; anything else is 404."""
    qs = invoice_list(principal=principal).filter(number=number)
    found = qs.first()
    if found is None:
        raise NotFound(f"no invoice {number}")
    return found


def reinstatable_contract_list(*, principal: Principal, organization_id: int) -> list[Contract]:
    """The organisation's lapsed, past-due and suspended terms (B-4, B-6), for staff of its
    vendor; what the console offers to reinstate."""
    org = billing_organization_get(principal=principal, organization_id=organization_id)
    if not principal.is_staff:
        raise Forbidden("staff only")
    states = (ContractState.LAPSED, ContractState.PAST_DUE, ContractState.SUSPENDED)
    return list(
        Contract.objects.filter(organization=org, state__in=states)
        .exclude(renewals__state__in=(ContractState.ACTIVE, ContractState.PAST_DUE,
                                      ContractState.SUSPENDED), state=ContractState.LAPSED)
        .select_related("plan")
        .order_by("start", "pk")
        .distinct()
    )  # fmt: skip


def billing_organization_get(*, principal: Principal, organization_id: int) -> Organization:
    """An organisation whose billing the principal may see: a contact its own, staff their
    vendor's; anything else is 404."""
    found = scope(
        Organization.objects.filter(pk=organization_id),
        principal,
        vendor_field="vendor_id",
        organization_field="pk",
    ).first()
    if found is None:
        raise NotFound(f"no organisation {organization_id}")
    return found


@dataclass
class Balance:
    """What one organisation owes in one currency on a day."""

    currency: str
    open: Decimal = Decimal(0)  # unpaid balance of issued invoices
    overdue: Decimal = Decimal(0)  # of which past its due date
    on_account: Decimal = Decimal(0)  # payments not yet allocated
    open_invoices: int = 0
    overdue_invoices: int = 0

    @property
    def balance(self) -> Decimal:
        """Owed after money on account (negative: the customer is in credit)."""
        return self.open - self.on_account


@dataclass
class OrganizationBalance:
    organization: Organization
    balances: list[Balance] = field(default_factory=list)


def _balances(org_ids: list[int] | None, vendor_id: int, today: date) -> dict[int, list[Balance]]:
    open_qs = Invoice.objects.filter(
        vendor_id=vendor_id, kind=InvoiceKind.INVOICE, state=InvoiceState.ISSUED
    )
    paid_qs = Payment.objects.filter(vendor_id=vendor_id, unapplied__gt=0)
    if org_ids is not None:
        open_qs = open_qs.filter(organization_id__in=org_ids)
        paid_qs = paid_qs.filter(organization_id__in=org_ids)
    late = Q(due_date__lt=today)
    found: dict[tuple[int, str], Balance] = {}
    for row in open_qs.values("organization_id", "currency").annotate(
        sum_total=Sum("total"),
        sum_paid=Sum("amount_paid"),
        sum_credited=Sum("amount_credited"),
        late_total=Sum("total", filter=late),
        late_paid=Sum("amount_paid", filter=late),
        late_credited=Sum("amount_credited", filter=late),
        n=Count("pk"),
        late_n=Count("pk", filter=late),
    ):
        b = found.setdefault(
            (row["organization_id"], row["currency"]), Balance(currency=row["currency"])
        )
        b.open = Decimal(row["sum_total"] - row["sum_paid"] - row["sum_credited"])
        late_sums = (row["late_total"], row["late_paid"], row["late_credited"])
        late_total, late_paid, late_credited = (Decimal(v or 0) for v in late_sums)
        b.overdue = late_total - late_paid - late_credited
        b.open_invoices, b.overdue_invoices = row["n"], row["late_n"]
    for row in paid_qs.values("organization_id", "currency").annotate(
        sum_unapplied=Sum("unapplied")
    ):
        b = found.setdefault(
            (row["organization_id"], row["currency"]), Balance(currency=row["currency"])
        )
        b.on_account = row["sum_unapplied"]
    out: dict[int, list[Balance]] = {}
    for (org_id, _), b in sorted(found.items()):
        out.setdefault(org_id, []).append(b)
    return out


def organization_balance(
    *, principal: Principal, organization_id: int, today: date
) -> OrganizationBalance:
    """What the organisation owes, per currency (a contact: only its own organisation)."""
    org = billing_organization_get(principal=principal, organization_id=organization_id)
    return OrganizationBalance(org, _balances([org.pk], org.vendor_id, today).get(org.pk, []))


def balance_list(*, principal: Principal, today: date) -> list[OrganizationBalance]:
    """Every customer of the principal's vendor with what it owes (staff only)."""
    if not principal.is_staff or principal.vendor_id is None:
        raise Forbidden("staff of a vendor only")
    orgs = list(Organization.objects.filter(vendor_id=principal.vendor_id).order_by("name"))
    found = _balances(None, principal.vendor_id, today)
    return [OrganizationBalance(org, found.get(org.pk, [])) for org in orgs]


def suspension_request_list(*, principal: Principal) -> list[BillingRunKey]:
    """Suspensions the run asked a person to approve (B-4) that nobody decided yet and whose
    invoice is still unpaid (staff only)."""
    if not principal.is_staff or principal.vendor_id is None:
        raise Forbidden("staff of a vendor only")
    decided = BillingRunKey.objects.filter(
        vendor_id=OuterRef("vendor_id"),
        subject=OuterRef("subject"),
        on=OuterRef("on"),
        purpose__in=SUSPENSION_DECISIONS,
    )
    return list(
        BillingRunKey.objects.filter(
            vendor_id=principal.vendor_id,
            purpose=SUSPENSION_REQUEST,
            invoice__state=InvoiceState.ISSUED,
        )
        .filter(~Exists(decided))
        .select_related("invoice", "invoice__organization", "invoice__contract")
        .order_by("on", "pk")
    )


# --- plan parameters -------------------------------------------------------------------------


def plan_billing(plan: Plan) -> PlanBilling:
    """The plan's billing parameters; defaults by plan kind when none were configured
    (per-user: monthly, renewal invoiced 1 month ahead, automatic suspension, lapse at
    expiry; otherwise annual, 2 months ahead, suspension on approval)."""
    found = PlanBilling.objects.filter(plan_id=plan.pk).first()
    return found if found is not None else default_plan_billing(plan)


def default_plan_billing(plan: Plan) -> PlanBilling:
    per_user = plan.kind == PlanKind.PER_USER
    return PlanBilling(
        plan_id=plan.pk,
        billing="monthly" if per_user else "annual",
        renewal_lead_months=1 if per_user else 2,
        suspend_mode="automatic" if per_user else "approval",
        lapse_after_days=0 if per_user else None,
    )


def chain_root(contract: Contract) -> Contract:
    """The first term of the renewal chain ``contract`` belongs to (what billing keys on)."""
    root, seen = contract, {contract.pk}
    while root.predecessor_id and root.predecessor_id not in seen:
        seen.add(root.predecessor_id)
        root = Contract.objects.select_related("plan").get(pk=root.predecessor_id)
    return root


def chain_billing_changes(root_ids: list[int]) -> dict[int, tuple[tuple[date, Billing], ...]]:
    """The customers' billing choices that stand, per chain root (B-5)."""
    made: dict[int, list[tuple[date, str]]] = {}
    roots: Any = root_ids
    if connection.vendor == "postgresql" and len(root_ids) > 1:
        # the ids as one array: the billing run asks for a couple of thousand chains at a
        # time, and an IN list of as many placeholders cost it 25 ms of Python per call
        roots = RawSQL("SELECT unnest(%s::bigint[])", (list(root_ids),))
    for row in BillingChoice.objects.filter(contract_id__in=roots).order_by("chosen_at", "pk"):
        made.setdefault(row.contract_id, []).append((row.effective_from, row.billing))
    return {root: billing_changes(choices) for root, choices in made.items()}


def contract_billing(contract: Contract, pb: PlanBilling | None = None) -> Billing:
    """How the term ``contract`` is billed: the customer's choice in force at its start, else
    the plan's billing (B-5)."""
    pb = pb or plan_billing(contract.plan)
    root = chain_root(contract)
    changes = chain_billing_changes([root.pk]).get(root.pk, ())
    return billing_in_force(Billing(pb.billing), changes, contract.start)


def subscription_plan(plan: Plan, currency: str, pb: PlanBilling | None = None) -> SubscriptionPlan:
    """The domain price list of a per-user plan (B-5)."""
    pb = pb or plan_billing(plan)
    return SubscriptionPlan(
        unit_price=Money(plan.per_user_price or Decimal(0), currency),
        annual_discount_percent=Decimal(pb.annual_discount_percent).normalize(),
        term_months=plan.term_months,
    )


def users_on(contract: Contract, on: date) -> int:
    """Counted users of the contract on ``on`` (E-9 lines; users added mid-term count from the
    day they were added). A day past the term counts as its last day."""
    day = min(on, contract.end - timedelta(days=1))
    return sum(
        line.quantity
        for line in contract.lines.all()
        if line.kind == LineKind.USERS
        and (line.start is None or line.start <= day)
        and (line.end is None or line.end > day)
    )


def users_for_renewal(term: Contract) -> int:
    """The users the term after ``term`` starts with (see :func:`users_for_renewal_many`)."""
    return users_for_renewal_many([term])[term.pk]


def users_for_renewal_many(terms: Sequence[Contract]) -> dict[int, int]:
    """The users the term after each of ``terms`` starts with, by term id, in one query:
    those counted on its last day, unless a lower inventory count was applied to take effect
    at its end (fewer users of an annually billed term are billed from the renewal, B-5,
    E-9; the latest such count wins)."""
    by_pk = {term.pk: term for term in terms}
    deferred: dict[int, int] = {}
    rows = (
        UserCountChange.objects.filter(
            contract_id__in=list(by_pk), state=UserCountChangeState.APPLIED
        )
        .order_by("counted_at", "pk")
        .values_list("contract_id", "effective_on", "users_after")
    )
    for contract_id, effective_on, users_after in rows:
        if effective_on >= by_pk[contract_id].end:
            deferred[contract_id] = users_after  # later rows win
    return {
        pk: deferred[pk] if pk in deferred else users_on(term, term.end - timedelta(days=1))
        for pk, term in by_pk.items()
    }


def user_count_change_list(*, principal: Principal, state: str | None = "proposed") -> Any:
    """The vendor's inventory count changes (B-5, E-9), the proposed ones by default (staff)."""
    if not principal.is_staff or principal.vendor_id is None:
        raise Forbidden("staff of a vendor only")
    rows = UserCountChange.objects.filter(vendor_id=principal.vendor_id)
    if state:
        rows = rows.filter(state=state)
    return rows.select_related("organization", "contract", "invoice").order_by("counted_at", "pk")


def user_count_explanation(
    *, principal: Principal, contract_id: int, on: date | None
) -> tuple[Contract, UserCountChange | None, int]:
    """Why the subscription bills the users it bills on ``on`` (default: today's count): the
    last inventory count applied to the contract (or a term before it) by that day, and the
    users billed that day. A contact sees only its own organisation's; else 404."""
    contract = scope(
        Contract.objects.filter(pk=contract_id),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    ).first()
    if contract is None:
        raise NotFound(f"no contract {contract_id}")
    day = on or contract.start
    change = (
        UserCountChange.objects.filter(
            organization_id=contract.organization_id,
            state=UserCountChangeState.APPLIED,
            effective_on__lte=max(day, contract.start),
        )
        .order_by("-effective_on", "-counted_at", "-pk")
        .first()
    )
    return contract, change, users_on(contract, day)


def tax_rates(vendor_id: int, organization_ids: list[int]) -> dict[int, tuple[Decimal, str]]:
    """Each organisation's tax rate and label (B-1): its own rate when it has one, else the
    vendor's; zero when nothing is configured."""
    vb = VendorBilling.objects.filter(vendor_id=vendor_id).first()
    default = (Decimal(vb.tax_percent), vb.tax_label) if vb else (Decimal(0), "Tax")
    own = dict(
        CustomerBilling.objects.filter(
            organization_id__in=organization_ids, tax_percent__isnull=False
        ).values_list("organization_id", "tax_percent")
    )
    return {o: (Decimal(own[o]), default[1]) if o in own else default for o in organization_ids}


# --- the customer's monthly / annual choice (B-5) ----------------------------------------------

BILLING_CHOOSABLE = (ContractState.ACTIVE, ContractState.PAST_DUE)


@dataclass(frozen=True)
class BillingChoiceView:
    """What a contract is billed now and from the next term it can still change."""

    contract: Contract
    current: Billing  # the term in force on `today`
    next_from: date  # the first term a choice made today changes
    next: Billing  # how that term will be billed
    annual_discount_percent: str
    choosable: bool  # a per-user subscription in force
    why_not: str


def _terms(root: Contract) -> list[Contract]:
    """The chain's signed terms, first to latest."""
    terms, by_pred = (
        [root],
        {
            c.predecessor_id: c
            for c in Contract.objects.filter(
                vendor_id=root.vendor_id, organization_id=root.organization_id
            )
            .exclude(predecessor=None)
            .select_related("plan")
        },
    )
    while terms[-1].pk in by_pred and len(terms) < 1000:
        terms.append(by_pred[terms[-1].pk])
    return terms


def billing_choice_view(*, contract: Contract, today: date) -> BillingChoiceView:
    root = chain_root(contract)
    terms = _terms(root)
    current = next((t for t in reversed(terms) if t.start <= today), terms[0])
    pb = plan_billing(current.plan)
    changes = chain_billing_changes([root.pk]).get(root.pk, ())
    months = current.plan.term_months
    next_from = current.end if current.start <= today else current.start
    while BillingRunKey.objects.filter(
        vendor_id=root.vendor_id, subject=str(root.pk), purpose="invoice", on=next_from
    ).exists():  # that term's first invoice is out: the choice starts with the one after
        next_from = add_months(next_from, months)
    why_not = ""
    if current.plan.kind != PlanKind.PER_USER:
        why_not = f"{current.plan.name} is not a per-user subscription: it is billed per term"
    elif current.state not in BILLING_CHOOSABLE:
        why_not = f"{current.label} is {current.state}"
    return BillingChoiceView(
        contract=current,
        current=contract_billing(current, pb),
        next_from=next_from,
        next=billing_in_force(Billing(pb.billing), changes, next_from),
        annual_discount_percent=f"{Decimal(pb.annual_discount_percent).normalize():f}",
        choosable=not why_not,
        why_not=why_not,
    )


def billing_choice_list(
    *, principal: Principal, organization_id: int | None, today: date
) -> list[BillingChoiceView]:
    """The organisation's per-user subscriptions in force (their latest terms) and how each is
    billed now and from its next term; a contact sees only its own organisation."""
    qs = scope(
        Contract.objects.filter(
            plan__kind=PlanKind.PER_USER, state__in=BILLING_CHOOSABLE
        ).select_related("plan", "organization"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    views: dict[int, BillingChoiceView] = {}
    for contract in qs.order_by("organization__name", "pk"):
        view = billing_choice_view(contract=contract, today=today)
        views.setdefault(view.contract.pk, view)  # one row per subscription, its current term
    return list(views.values())

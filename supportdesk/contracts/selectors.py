"""Reads for contracts and entitlements. Everything a customer can reach takes a Principal and
is scoped to its organisation (house rule 11); another customer's data is a 404."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from supportdesk.contracts.domain.counting import count_users, parse_inventory_json
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.flags import entitlement_flags, flags_etag
from supportdesk.contracts.domain.plans import RELEASE_WINDOW_DAYS, Feature, PlanRules, ReleaseRule
from supportdesk.contracts.domain.specs import plan_from_spec, plan_from_text
from supportdesk.contracts.domain.states import (
    IN_FORCE_STATES,
    ContractTerm,
    LineItem,
    effective_state,
)
from supportdesk.contracts.domain.states import (
    ContractState as DomainState,
)
from supportdesk.contracts.domain.versions import (
    Catalogue,
    CoveragePeriod,
    Eligibility,
    release_eligible,
)
from supportdesk.contracts.domain.versions import (
    ProductVersion as CatalogueVersion,
)
from supportdesk.contracts.domain.versions import (
    Release as CatalogueRelease,
)
from supportdesk.contracts.models import (
    Contract,
    ContractLine,
    ContractState,
    Inventory,
    Plan,
    ProductVersion,
    Release,
    SupportAssignment,
    TicketEntitlement,
    TimeEntry,
    WorkCategory,
)
from supportdesk.contracts.selectors_usage import (
    cap_usage_for,
    cap_usage_rows,
)
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, scope
from supportdesk.customers.models import ContactRole, Organization
from supportdesk.customers.selectors import organization_get
from supportdesk.tickets.models import Ticket


def vendor_tz(name: str) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def vendor_today(vendor_id: int, now: datetime) -> date:
    """``now`` as a date in the vendor's zone: the default day of billing actions."""
    zone = Vendor.objects.filter(pk=vendor_id).values_list("timezone", flat=True).first()
    return now.astimezone(vendor_tz(zone or "UTC")).date()


# --- building the domain inputs --------------------------------------------------------------


def contract_term(
    contract: Contract,
    *,
    lines: Sequence[ContractLine] | None = None,
    plan: PlanRules | None = None,
) -> ContractTerm:
    """The domain view of one contract row, with its snapshotted plan; `lines`: its lines
    with their products when the caller read them with it, else `contract.lines`; `plan`:
    its snapshot already built by the caller, else built from `contract.plan_snapshot`."""
    items = tuple(
        LineItem(
            description=line.description,
            kind=line.kind,  # type: ignore[arg-type]
            quantity=line.quantity,
            unit_price=line.unit_price,
            product=line.product.name if line.product else None,
            start=line.start,
            end=line.end,
        )
        for line in (contract.lines.all() if lines is None else lines)
    )
    return ContractTerm(
        contract_id=str(contract.pk),
        organisation_id=str(contract.organization_id),
        plan=plan_from_spec(contract.plan_snapshot) if plan is None else plan,
        start=contract.start,
        end=contract.end,
        state=contract.state,  # type: ignore[arg-type]
        line_items=items,
        currency=contract.currency,
        addons=frozenset(contract.addons or ()),
    )


def contract_terms(*, organization_id: int, lock: bool = False) -> list[ContractTerm]:
    return contract_terms_many(organization_ids=[organization_id], lock=lock)


def contract_terms_many(
    *, organization_ids: Sequence[int], lock: bool = False
) -> list[ContractTerm]:
    """The terms of some organisations, by organisation, start and id; ``lock``: their rows
    are locked (in that order) until the transaction ends. The plan snapshots come as text
    and each distinct one is decoded and built once: the terms of one plan mostly share it
    (renewing 100,000 contracts read as many snapshots, a third of the renewals' time)."""
    qs = (
        Contract.objects.filter(organization_id__in=organization_ids)
        .defer("plan_snapshot")
        .annotate(snapshot_text=Cast("plan_snapshot", TextField()))
        .prefetch_related("lines__product")
    )
    if lock:
        qs = qs.select_for_update()
    return [
        contract_term(c, plan=plan_from_text(c.snapshot_text))
        for c in qs.order_by("organization_id", "start", "pk")
    ]


def catalogue_for(*, vendor_id: int, product_ids: Sequence[int] | None = None) -> Catalogue:
    versions = ProductVersion.objects.filter(product__vendor_id=vendor_id).select_related("product")
    releases = Release.objects.filter(version__product__vendor_id=vendor_id).select_related(
        "version__product"
    )
    if product_ids is not None:
        versions = versions.filter(product_id__in=product_ids)
        releases = releases.filter(version__product_id__in=product_ids)
    return Catalogue(
        versions=tuple(
            CatalogueVersion(
                product=v.product.name,
                version=v.version,
                released_on=v.released_on or date(1970, 1, 1),
                current=v.is_current,
            )
            for v in versions
        ),
        releases=tuple(release_domain(r) for r in releases),
    )


def release_domain(release: Release) -> CatalogueRelease:
    return CatalogueRelease(
        product=release.version.product.name,
        version=release.version.version,
        name=release.name,
        shipped_on=release.shipped_on,
        upgrade_sold_separately=release.upgrade_sold_separately,
    )


@dataclass(frozen=True)
class DecisionInputs:
    terms: list[ContractTerm]
    catalogue: Catalogue
    tz: tzinfo


def decision_inputs(*, ticket: Ticket) -> DecisionInputs:
    return DecisionInputs(
        terms=contract_terms(organization_id=ticket.organization_id),
        catalogue=catalogue_for(
            vendor_id=ticket.vendor_id,
            product_ids=[ticket.product_id] if ticket.product_id else [],
        ),
        tz=vendor_tz(ticket.vendor.timezone),
    )


def support_preferred(*, organization_id: int) -> list[int]:
    """The organisation's DSE then backup (E-2), for `pick_assignee(preferred=...)`."""
    return support_preferred_many(organization_ids=[organization_id]).get(organization_id, [])


def support_preferred_many(*, organization_ids: Sequence[int]) -> dict[int, list[int]]:
    """`support_preferred` of several organisations in one read (those with an account team)."""
    return {
        row.organization_id: [row.dse_id] + ([row.backup_id] if row.backup_id else [])
        for row in SupportAssignment.objects.filter(organization_id__in=organization_ids)
    }


# --- what principals may read ----------------------------------------------------------------


def contract_list(
    *, principal: Principal, organization_id: int | None = None
) -> QuerySet[Contract]:
    qs = scope(
        Contract.objects.select_related("organization", "plan"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if organization_id is not None:
        organization_get(principal=principal, organization_id=organization_id)
        qs = qs.filter(organization_id=organization_id)
    return qs.prefetch_related("lines__product").order_by("organization__name", "start", "pk")


def contract_get(*, principal: Principal, contract_id: int) -> Contract:
    contract = contract_list(principal=principal).filter(pk=contract_id).first()
    if contract is None:
        raise NotFound(f"contract {contract_id} not found")
    return contract


def plan_list(*, principal: Principal) -> QuerySet[Plan]:
    """Staff: their vendor's plans; a contact: the plans of its organisation's contracts."""
    if principal.is_staff:
        return scope(
            Plan.objects.all(), principal, vendor_field="vendor_id", organization_field=None
        ).order_by("pk")
    return (
        Plan.objects.filter(contracts__organization_id=principal.organization_id or 0)
        .distinct()
        .order_by("pk")
    )


def contract_renews_lapsed(contract: Contract) -> bool:
    """A draft whose predecessor has lapsed: activating it is a reinstatement (B-6)."""
    return (
        contract.state == ContractState.DRAFT
        and contract.predecessor_id is not None
        and Contract.objects.filter(pk=contract.predecessor_id, state=ContractState.LAPSED).exists()
    )


def plan_get(*, principal: Principal, plan: int | str) -> Plan:
    qs = scope(Plan.objects.all(), principal, vendor_field="vendor_id", organization_field=None)
    found = (
        qs.filter(pk=plan).first()
        if isinstance(plan, int) or (str(plan).isascii() and str(plan).isdigit())
        else qs.filter(slug=plan).first()
    )
    if found is None:
        raise InvalidInput(f"unknown plan {plan!r}")
    return found


def inventory_get(*, principal: Principal, organization_id: int) -> dict[str, Any]:
    org = organization_get(principal=principal, organization_id=organization_id)
    row = Inventory.objects.filter(organization=org).first()
    empty: dict[str, Any] = {"devices": [], "extensions": [], "people": []}
    return {
        "organization": org.pk,
        "items": row.items if row else empty,
        "updated_at": row.updated_at if row else None,
    }


def inventory_count(*, principal: Principal, organization_id: int) -> dict[str, Any]:
    """E-9: the counted users with a reason for every item."""
    data = inventory_get(principal=principal, organization_id=organization_id)
    try:
        counted = count_users(parse_inventory_json(data["items"]))
    except EntitlementInputError as exc:
        raise InvalidInput(f"the stored inventory is invalid: {exc}") from None
    return {
        "organization": organization_id,
        "total": counted.total,
        "items": [
            {
                "type": item.item_type.value,
                "id": item.item_id,
                "counts": item.counts,
                "reason": item.reason,
                "person": item.person,
                "billed_as": item.billed_as,
            }
            for item in counted.items
        ],
    }


def _org_contracts(org: Organization) -> list[Contract]:
    return list(
        Contract.objects.filter(organization=org)
        .select_related("plan")
        .prefetch_related("lines__product")
        .order_by("start", "pk")
    )


def _terms_of(org: Organization, contracts: Sequence[Contract]) -> list[ContractTerm]:
    try:
        return [contract_term(c) for c in contracts]
    except EntitlementInputError as exc:
        raise InvalidInput(f"the contracts of {org.name} cannot be read: {exc}") from None


def _flags(
    org: Organization, contracts: Sequence[Contract], terms: Sequence[ContractTerm], today: date
) -> dict[str, Any]:
    retention = max(
        (
            c.plan.backup_retention_days
            for c, t in zip(contracts, terms, strict=True)
            if Feature.CONFIG_BACKUPS in t.plan.features
        ),
        default=0,
    )
    flags = entitlement_flags(contracts=terms, today=today, backup_retention_days=retention)
    labels = {str(c.pk): c.label for c in contracts}
    for entry in flags["contracts"]:
        entry["reference"] = labels[entry["contract_id"]]
    return {"organization": org.pk, **flags}


def entitlements_get(
    *, principal: Principal, organization_id: int, now: datetime
) -> tuple[dict[str, Any], str]:
    """E-10: the organisation's entitlement flags today (vendor's zone) and their ETag."""
    org = organization_get(principal=principal, organization_id=organization_id)
    today = now.astimezone(vendor_tz(org.vendor.timezone)).date()
    contracts = _org_contracts(org)
    flags = _flags(org, contracts, _terms_of(org, contracts), today)
    return flags, flags_etag(flags)


def coverage_periods(contract: Contract, tz: tzinfo) -> list[CoveragePeriod]:
    """The periods a contract was in force (active or past due), from its event history.

    The state it was created in counts from its start date (a contract entered after the
    fact); every later transition counts from the day it was recorded. Clipped to the term.
    """
    events = list(contract.events.order_by("at", "pk"))
    products = frozenset(
        line.product.name
        for line in contract.lines.all()
        if line.kind == "licence" and line.product
    )
    periods: list[CoveragePeriod] = []
    since: date | None = None
    for index, event in enumerate(events):
        day = contract.start if index == 0 else event.at.astimezone(tz).date()
        in_force = DomainState(event.to_state) in IN_FORCE_STATES
        if in_force and since is None:
            since = day
        elif not in_force and since is not None:
            start, end = max(since, contract.start), min(day, contract.end)
            if end > start:
                periods.append(CoveragePeriod(start, end, products or None))
            since = None
    if since is not None:
        start = max(since, contract.start)
        if contract.end > start:
            periods.append(CoveragePeriod(start, contract.end, products or None))
    return periods


def plan_release_eligibility(
    *, org: Organization, release: CatalogueRelease, tz: tzinfo, today: date
) -> Eligibility:
    """E-7 per plan: each contract counts under its own plan's rule (snapshotted at signing):
    ``covered_before_ship`` with its window (30 days, seed 000), or ``active_with_updates``
    (seed 002: eligible while the subscription with updates is active). Only plans that
    switch updates on give downloads. Eligible when any plan's rule allows it; otherwise the
    reason of the first refusal."""
    groups: dict[tuple[str, int], list[CoveragePeriod]] = {}
    for contract in _org_contracts(org):
        rules = plan_from_spec(contract.plan_snapshot)
        if Feature.UPDATES not in rules.features:
            continue
        key = (rules.release_rule.value, rules.release_window_days)
        groups.setdefault(key, []).extend(coverage_periods(contract, tz))
    if not groups:
        groups[(ReleaseRule.COVERED_BEFORE_SHIP.value, RELEASE_WINDOW_DAYS)] = []
    results = [
        release_eligible(
            agreements=periods,
            release=release,
            window_days=days,
            active_on=today if rule == ReleaseRule.ACTIVE_WITH_UPDATES else None,
        )
        for (rule, days), periods in sorted(groups.items())
    ]
    return next((r for r in results if r.ok), results[0])


def release_eligibility(
    *,
    principal: Principal,
    release_id: int,
    organization_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    """E-7: may this organisation download this release, ``now`` (its day in the vendor's
    zone matters for the ``active_with_updates`` rule)?"""
    release = (
        scope(
            Release.objects.select_related("version__product"),
            principal,
            vendor_field="version__product__vendor_id",
            organization_field=None,
        )
        .filter(pk=release_id)
        .first()
        if principal.is_staff
        else Release.objects.select_related("version__product")
        .filter(pk=release_id, version__product__vendor_id=principal.vendor_id or 0)
        .first()
    )
    if release is None:
        raise NotFound(f"release {release_id} not found")
    if organization_id is None:
        if not principal.is_contact:
            raise InvalidInput("say which organisation: ?organization=<id>")
        organization_id = principal.organization_id
    assert organization_id is not None
    org = organization_get(principal=principal, organization_id=organization_id)
    if org.vendor_id != release.version.product.vendor_id:
        raise NotFound(f"release {release_id} not found")
    tz = vendor_tz(org.vendor.timezone)
    result = plan_release_eligibility(
        org=org, release=release_domain(release), tz=tz, today=now.astimezone(tz).date()
    )
    return {
        "release": release.pk,
        "product": release.version.product.name,
        "version": release.version.version,
        "name": release.name,
        "shipped_on": release.shipped_on,
        "organization": org.pk,
        "eligible": result.ok,
        "code": result.code,
        "reason": result.reason,
    }


# --- pages: a customer's entitlement at a glance --------------------------------------------


def contract_row(contract: Contract, today: date) -> dict[str, Any]:
    """A contract as the pages show it: its state today and the last day it covers."""
    state = effective_state(state=contract.state, end=contract.end, day=today)
    return {
        "contract": contract,
        "state": state.value,
        "recorded_state": contract.state,
        "in_force": state in IN_FORCE_STATES and contract.start <= today,
        "last_day": contract.end - timedelta(days=1),
    }


def contract_overview(
    *, principal: Principal, now: datetime, state: str | None = None
) -> list[dict[str, Any]]:
    """The console's contract list: every contract the principal may see, with its state
    today, optionally only those in one (effective) state."""
    rows = []
    for contract in contract_list(principal=principal).select_related("vendor"):
        today = now.astimezone(vendor_tz(contract.vendor.timezone)).date()
        row = contract_row(contract, today)
        if state is None or row["state"] == state:
            rows.append(row)
    return rows


def organization_entitlement(
    *, principal: Principal, organization_id: int, now: datetime
) -> dict[str, Any]:
    """One customer's entitlement today for the console and the portal: its contracts (newest
    first) with the cap usage of those in force, the E-10 flags, its Dedicated Support
    Engineer and backup (E-2) and its designated administrators (E-3). A customer's contact
    asking about another organisation gets a 404."""
    org = organization_get(principal=principal, organization_id=organization_id)
    tz = vendor_tz(org.vendor.timezone)
    today = now.astimezone(tz).date()
    contracts = list(
        Contract.objects.filter(organization=org)
        .select_related("plan", "predecessor")
        .prefetch_related("lines__product", "events__actor")
        .order_by("-start", "-pk")
    )
    terms = _terms_of(org, contracts)
    try:
        usage = cap_usage_for(terms=terms, organization_id=org.pk, at=now, tz=tz)
        usage_error = ""
    except EntitlementInputError as exc:
        usage, usage_error = {}, f"cap usage unavailable: {exc}"
    caps = cap_usage_rows(terms, usage)
    rows = []
    for contract in contracts:
        row = contract_row(contract, today)
        row["caps"] = caps.get(str(contract.pk), [])
        rows.append(row)
    flags = _flags(org, contracts, terms, today)
    return {
        "organization": org,
        "today": today,
        "contracts": rows,
        "usage_error": usage_error,
        "features": {k: v for k, v in flags.items() if isinstance(v, bool)},
        "backup_retained_until": flags["config_backup_retained_until"],
        "assignment": SupportAssignment.objects.select_related("dse", "backup")
        .filter(organization=org)
        .first(),
        "administrators": list(
            org.contacts.filter(role=ContactRole.ADMINISTRATOR).order_by("name", "pk")
        ),
    }


def ticket_entitlement_panel(*, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """The entitlement box on a console ticket page: the decision taken at intake, today's
    cap usage of the organisation's contracts in force, and its DSE (E-2, E-4..E-8)."""
    try:
        terms = contract_terms(organization_id=ticket.organization_id)
        by_contract = cap_usage_for(
            terms=terms,
            organization_id=ticket.organization_id,
            at=now,
            tz=vendor_tz(ticket.vendor.timezone),
        )
        usage = [row for rows in cap_usage_rows(terms, by_contract).values() for row in rows]
    except EntitlementInputError as exc:
        usage = [{"summary": f"cap usage unavailable: {exc}", "cap": "", "exhausted": False}]
    decision = ticket_entitlement_out(ticket)
    contract = decision["contract"] if decision else None
    return {
        "ticket": ticket,
        "entitlement": decision,
        "contract_last_day": contract["end"] - timedelta(days=1) if contract else None,
        "usage": usage,
        "assignment": SupportAssignment.objects.select_related("dse", "backup")
        .filter(organization_id=ticket.organization_id)
        .first(),
        "categories": WorkCategory.choices,
    }


# A ticket's entitlement columns as the ticket API's rows read them: joined onto the ticket
# (``tickets.selectors.ticket_rows_query``, each prefixed ``entitlement__``), so a page costs
# no query of its own for them (issue 16.1).
ENTITLEMENT_ROW_FIELDS = (
    "ticket_id", "category", "covered", "billing", "reason", "rate_basis", "explanation",
    "flags", "cap_notices", "decision", "decided_at", "contract_id", "contract__reference",
    "contract__state", "contract__start", "contract__end",
)  # fmt: skip


def entitlement_row_out(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any] | None:
    """:func:`ticket_entitlement_out` from a row with ``ENTITLEMENT_ROW_FIELDS``, each name
    after ``prefix``; None when the row has no decision (a left join found none)."""
    if row[f"{prefix}ticket_id"] is None:
        return None
    decision: Mapping[str, Any] = row[f"{prefix}decision"] or {}
    contract_id = row[f"{prefix}contract_id"]
    return {
        "category": row[f"{prefix}category"],
        "covered": row[f"{prefix}covered"],
        "billing": row[f"{prefix}billing"],
        "reason": row[f"{prefix}reason"],
        "rate_basis": row[f"{prefix}rate_basis"],
        "explanation": row[f"{prefix}explanation"],
        "flags": list(row[f"{prefix}flags"]),
        "cap_notices": list(row[f"{prefix}cap_notices"]),
        "cap_usage": list(decision.get("cap_usage", [])),
        "suggestion": decision.get("suggestion"),
        "contract": (
            {
                "id": contract_id,
                "reference": row[f"{prefix}contract__reference"] or f"C-{contract_id}",
                "state": row[f"{prefix}contract__state"],
                "start": row[f"{prefix}contract__start"],
                "end": row[f"{prefix}contract__end"],
            }
            if contract_id is not None
            else None
        ),
        "decided_at": row[f"{prefix}decided_at"],
    }


def ticket_entitlement_out(ticket: Ticket) -> dict[str, Any] | None:
    """The stored decision for the ticket API and console (None before one is taken)."""
    # Reads the relation the ticket selectors already joined, so a page of tickets costs no
    # query per ticket.
    try:
        row = ticket.entitlement
    except TicketEntitlement.DoesNotExist:
        return None
    decision: Mapping[str, Any] = row.decision or {}
    return {
        "category": row.category,
        "covered": row.covered,
        "billing": row.billing,
        "reason": row.reason,
        "rate_basis": row.rate_basis,
        "explanation": row.explanation,
        "flags": list(row.flags),
        "cap_notices": list(row.cap_notices),
        "cap_usage": list(decision.get("cap_usage", [])),
        "suggestion": decision.get("suggestion"),
        "contract": (
            {
                "id": row.contract.pk,
                "reference": row.contract.label,
                "state": row.contract.state,
                "start": row.contract.start,
                "end": row.contract.end,
            }
            if row.contract
            else None
        ),
        "decided_at": row.decided_at,
    }


def time_entry_get(*, principal: Principal, ticket: Ticket, entry_id: int) -> TimeEntry:
    """A time entry of this ticket (itself read through the ticket selectors); else 404."""
    entry = TimeEntry.objects.filter(pk=entry_id, ticket=ticket).first()
    if entry is None or (principal.vendor_id != entry.vendor_id and not principal.is_superuser):
        raise NotFound(f"time entry {entry_id} not found")
    return entry

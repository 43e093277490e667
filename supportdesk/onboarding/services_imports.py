"""CSV imports (A-4): organisations, contacts, contracts, inventories and devices (H-1), from the
command line or the console.

Each row is applied in its own transaction through the same services every other channel
uses, and reported as created, updated, unchanged or refused (with the reason and the CSV line
number). Rows are matched by a natural key, so a second run of the same file changes nothing:
organisations by external id, else by name; contacts by email address; contracts by
organisation and reference. A dry run applies every row and rolls each one back.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from django.db import transaction

from supportdesk.contracts.domain.counting import CSV_COLUMNS as INVENTORY_COLUMNS
from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import Conflict, DomainError, InvalidInput
from supportdesk.core.models import Vendor, VendorEventKind
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import (
    ContactEmail,
    ContactPhone,
    ContactRole,
    Organization,
    PhoneKind,
)
from supportdesk.customers.services import (
    contact_create,
    contact_update,
    organization_create,
    organization_update,
)

CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "refused"
MAX_ROWS = 200_000


@dataclass(frozen=True)
class RowResult:
    line: int
    action: str
    key: str
    reason: str = ""


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(r.action for r in self.rows)
        return {a: counted.get(a, 0) for a in (CREATED, UPDATED, UNCHANGED, REFUSED)}

    @property
    def refused(self) -> list[RowResult]:
        return [r for r in self.rows if r.action == REFUSED]

    def summary(self) -> str:
        counts = ", ".join(f"{n} {a}" for a, n in self.counts.items())
        prefix = "dry run, nothing saved: " if self.dry_run else ""
        return f"{self.kind}: {prefix}{counts}"


class _Rollback(Exception):
    """Undoes a dry-run row after it was applied."""


def _cell(row: dict[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


class _Importer:
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def __init__(self, vendor: Vendor, principal: Principal | None, now: datetime) -> None:
        self.vendor, self.principal, self.now = vendor, principal, now
        self.seen: dict[str, int] = {}  # natural key -> first line, within this file

    def key(self, row: dict[str, str]) -> str:
        raise NotImplementedError

    def apply(self, row: dict[str, str]) -> str:
        """Apply one row through exactly one (atomic) service call; return the action."""
        raise NotImplementedError

    def organization(self, row: dict[str, str]) -> Organization:
        external_id = _cell(row, "organization_external_id")
        name = _cell(row, "organization")
        qs = Organization.objects.filter(vendor=self.vendor)
        if external_id:
            org = qs.filter(external_id=external_id).first()
            what = f"external id {external_id!r}"
        elif name:
            org = qs.filter(name__iexact=name).first()
            what = f"name {name!r}"
        else:
            raise InvalidInput("organization (name) or organization_external_id is required")
        if org is None:
            raise InvalidInput(f"no organisation with {what}: import organisations first")
        return org


class OrganizationImporter(_Importer):
    columns = ("name", "external_id", "email_domains", "notes")
    required = ("name",)

    def key(self, row: dict[str, str]) -> str:
        external_id = _cell(row, "external_id")
        return f"id:{external_id}" if external_id else f"name:{_cell(row, 'name').lower()}"

    def apply(self, row: dict[str, str]) -> str:
        name, external_id = _cell(row, "name"), _cell(row, "external_id")
        fields: dict[str, Any] = {"name": name}
        if "email_domains" in row:
            fields["email_domains"] = "\n".join(_split(_cell(row, "email_domains")))
        if "notes" in row:
            fields["notes"] = _cell(row, "notes")
        qs = Organization.objects.filter(vendor=self.vendor)
        org = qs.filter(external_id=external_id).first() if external_id else None
        if org is None:
            org = qs.filter(name__iexact=name).first()
            if org is not None and external_id:
                if org.external_id and org.external_id != external_id:
                    raise Conflict(
                        f"{org.name!r} already has external id {org.external_id!r}",
                        code="duplicate",
                    )
                fields["external_id"] = external_id
        if org is None:
            organization_create(vendor=self.vendor, external_id=external_id, **fields)
            return CREATED
        return UPDATED if organization_update(organization=org, **fields) else UNCHANGED


class ContactImporter(_Importer):
    columns = ("email", "name", "organization", "organization_external_id", "phone", "role")
    required = ("email", "name")

    def __init__(self, vendor: Vendor, principal: Principal | None, now: datetime) -> None:
        super().__init__(vendor, principal, now)
        # What is known already, read once instead of per row (10k rows < 1 min): an unchanged
        # row is then recognised without touching the database.
        self.known: dict[str, tuple[int, int, str, str]] = {
            address: (contact_id, org_id, name, role)
            for address, contact_id, org_id, name, role in ContactEmail.objects.filter(
                vendor=vendor
            ).values_list(
                "address", "contact_id", "contact__organization_id", "contact__name",
                "contact__role",
            )
        }  # fmt: skip
        self.phones: dict[int, set[str]] = {}
        for contact_id, number in ContactPhone.objects.filter(
            vendor=vendor, kind=PhoneKind.VOICE
        ).values_list("contact_id", "number"):
            self.phones.setdefault(contact_id, set()).add(number)
        self.organizations: dict[tuple[str, str], Organization] = {}

    def key(self, row: dict[str, str]) -> str:
        return _cell(row, "email").lower()

    def organization(self, row: dict[str, str]) -> Organization:
        ref = (_cell(row, "organization_external_id"), _cell(row, "organization").lower())
        org = self.organizations.get(ref)
        if org is None:
            org = self.organizations[ref] = super().organization(row)
        return org

    def apply(self, row: dict[str, str]) -> str:
        email = _cell(row, "email").lower()
        role = _cell(row, "role").lower() or None
        if role is not None and role not in ContactRole.values:
            raise InvalidInput(f"role must be one of {', '.join(ContactRole.values)}")
        phones = _split(_cell(row, "phone"))
        org = self.organization(row)
        known = self.known.get(email)
        if known is None:
            contact_create(
                organization=org,
                name=_cell(row, "name"),
                emails=[email],
                phones=phones,
                role=role or ContactRole.CONTACT,
            )
            return CREATED
        contact_id, org_id, name, current_role = known
        if org_id != org.pk:
            raise Conflict(f"{email} is a contact of another organisation", code="other_org")
        numbers = {normalize_e164(p, region=self.vendor.country) for p in phones}
        if (
            name == _cell(row, "name")
            and role in (None, current_role)
            and numbers <= self.phones.get(contact_id, set())
        ):
            return UNCHANGED
        contact = org.contacts.get(pk=contact_id)
        changed = contact_update(
            contact=contact, name=_cell(row, "name"), role=role, phones_add=phones
        )
        return UPDATED if changed else UNCHANGED


class ContractImporter(_Importer):
    columns = (
        "organization", "organization_external_id", "plan", "reference", "start", "end", "state",
    )  # fmt: skip
    required = ("plan", "reference", "start")

    def key(self, row: dict[str, str]) -> str:
        org = _cell(row, "organization_external_id") or _cell(row, "organization").lower()
        return f"{org}/{_cell(row, 'reference')}"

    def apply(self, row: dict[str, str]) -> str:
        from supportdesk.contracts.models import Contract, Plan
        from supportdesk.contracts.services import contract_create

        org = self.organization(row)
        reference = _cell(row, "reference")
        plan = Plan.objects.filter(vendor=self.vendor, slug=_cell(row, "plan")).first()
        if plan is None:
            raise InvalidInput(f"no plan with slug {_cell(row, 'plan')!r}")
        start = _date(_cell(row, "start"), "start")
        end = _date(_cell(row, "end"), "end") if _cell(row, "end") else None
        existing = Contract.objects.filter(organization=org, reference=reference).first()
        if existing is not None:
            same = existing.plan_id == plan.pk and existing.start == start
            if same and (end is None or existing.end == end):
                return UNCHANGED
            raise Conflict(
                f"contract {reference!r} exists with other terms; change it in the console",
                code="duplicate",
            )
        contract_create(
            principal=self.principal, organization=org, plan=plan, start=start, end=end,
            state=_cell(row, "state").lower() or "active", reference=reference, now=self.now,
            reason="imported",
        )  # fmt: skip
        return CREATED


class InventoryImporter(_Importer):
    """Phone-system inventories (E-9): the rows of one organisation are its whole inventory,
    replaced in one transaction; the report has one entry per organisation, at its first line.
    Unchanged when the stored inventory already equals the file's."""

    columns = ("organization", "organization_external_id", *INVENTORY_COLUMNS)
    required = ("type", "id")
    grouped = True

    def key(self, row: dict[str, str]) -> str:
        return _cell(row, "organization_external_id") or _cell(row, "organization").lower()

    def apply_group(self, org: Organization, rows: list[tuple[int, dict[str, str]]]) -> str:
        from supportdesk.contracts.models import Inventory
        from supportdesk.contracts.services import inventory_parse, inventory_put

        columns = [c for c in INVENTORY_COLUMNS if any(c in row for _, row in rows)]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([_cell(row, c) for c in columns] for _, row in rows)
        lines = [line for line, _ in rows]
        try:
            items = inventory_parse(data=out.getvalue(), content_type="text/csv")
            stored = Inventory.objects.filter(organization=org).first()
            if stored is not None and stored.items == items:
                return UNCHANGED
            inventory_put(
                principal=self.principal, organization=org, data=out.getvalue(),
                content_type="text/csv", now=self.now,
            )  # fmt: skip
        except InvalidInput as exc:
            raise InvalidInput(_file_lines(exc.detail, lines)) from None
        return UPDATED if stored is not None else CREATED


_SUBLINE = re.compile(r"\bline (\d+)")


def _file_lines(detail: str, lines: list[int]) -> str:
    """'line N' of an organisation's own inventory CSV (its header is line 1) -> the line of
    the imported file."""

    def swap(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"line {lines[n - 2]}" if 2 <= n <= len(lines) + 1 else match.group(0)

    return _SUBLINE.sub(swap, detail)


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not a date YYYY-MM-DD") from None


class AssetImporter(_Importer):
    """Devices (H-1), matched by model and serial: the hardware model (manufacturer + name)
    must exist; the warranty end follows from the purchase date; a contract is named by its
    reference, a site by its name."""

    columns = (
        "organization", "organization_external_id", "manufacturer", "model", "serial",
        "purchased_on", "site", "contract", "status",
    )  # fmt: skip
    required = ("manufacturer", "model", "serial")

    def key(self, row: dict[str, str]) -> str:
        return "/".join(_cell(row, c).lower() for c in ("manufacturer", "model", "serial"))

    def apply(self, row: dict[str, str]) -> str:
        from supportdesk.assets.models import Asset, HardwareModel
        from supportdesk.assets.services import asset_create, asset_update
        from supportdesk.contracts.models import Contract

        org = self.organization(row)
        model = HardwareModel.objects.filter(
            vendor=self.vendor,
            manufacturer__iexact=_cell(row, "manufacturer"),
            name__iexact=_cell(row, "model"),
        ).first()
        if model is None:
            raise InvalidInput(
                f"no hardware model {_cell(row, 'manufacturer')} {_cell(row, 'model')}: "
                "add it in the console first"
            )
        fields: dict[str, Any] = {}
        if _cell(row, "purchased_on"):
            fields["purchased_on"] = _date(_cell(row, "purchased_on"), "purchased_on")
        if _cell(row, "status"):
            fields["status"] = _cell(row, "status").lower()
        if _cell(row, "site"):
            fields["site"] = org.sites.filter(name__iexact=_cell(row, "site")).first()
            if fields["site"] is None:
                raise InvalidInput(f"{org.name} has no site {_cell(row, 'site')!r}")
        if _cell(row, "contract"):
            fields["contract"] = Contract.objects.filter(
                organization=org, reference=_cell(row, "contract")
            ).first()
            if fields["contract"] is None:
                raise InvalidInput(f"{org.name} has no contract {_cell(row, 'contract')!r}")
        serial = _cell(row, "serial")
        existing = Asset.objects.filter(model=model, serial=serial).first()
        if existing is None:
            asset_create(
                principal=self.principal, organization=org, model=model, serial=serial,
                now=self.now, **fields,
            )  # fmt: skip
            return CREATED
        if existing.organization_id != org.pk:
            raise Conflict(f"{model} #{serial} is another organisation's", code="other_org")
        changed = asset_update(principal=self.principal, asset=existing, **fields)
        return UPDATED if changed else UNCHANGED


IMPORTERS: dict[str, type[_Importer]] = {
    "organizations": OrganizationImporter,
    "contacts": ContactImporter,
    "contracts": ContractImporter,
    "inventory": InventoryImporter,
    "assets": AssetImporter,
}


def _rows(stream: IO[str], importer: _Importer) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(stream)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise InvalidInput("the file is empty: the first line names the columns")
    missing = [c for c in importer.required if c not in header]
    if missing:
        raise InvalidInput(
            f"missing column(s) {', '.join(missing)}; expected: {', '.join(importer.columns)}"
        )
    reader.fieldnames = header
    line = 1
    for count, row in enumerate(reader, 1):
        if count > MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS} rows: split the file")
        yield line + 1, row
        line = reader.line_num


def import_csv(
    *,
    kind: str,
    vendor: Vendor,
    stream: IO[str],
    now: datetime,
    principal: Principal | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    file_name: str = "",
) -> ImportReport:
    """Apply a CSV file row by row (one transaction each) and report every row (A-4).

    A real import by a person (`principal`) ends with a vendor event holding the counts."""
    importer_class = IMPORTERS.get(kind)
    if importer_class is None:
        raise InvalidInput(f"unknown import {kind!r}; one of {', '.join(IMPORTERS)}")
    importer = importer_class(vendor, principal, now)
    report = ImportReport(kind=kind, dry_run=dry_run)
    if isinstance(importer, InventoryImporter):
        report.rows.extend(_apply_groups(importer, _rows(stream, importer), dry_run, progress))
    else:
        for line, row in _rows(stream, importer):
            report.rows.append(_apply_row(importer, line, row, dry_run))
            if progress is not None:
                progress(1)
    if principal is not None and not dry_run:
        vendor_event_record(
            vendor_id=vendor.pk, kind=VendorEventKind.IMPORTED, actor_id=principal.user_id,
            now=now, file=file_name[:200], import_kind=kind, counts=report.counts,
        )  # fmt: skip
    return report


def _apply_groups(
    importer: InventoryImporter,
    rows: Iterator[tuple[int, dict[str, str]]],
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> list[RowResult]:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    results = []
    for line, row in rows:
        if progress is not None:
            progress(1)
        if None in row:
            results.append(RowResult(line, REFUSED, "", "more cells than columns"))
        else:
            groups.setdefault(importer.key(row), []).append((line, row))
    for key, members in groups.items():
        first = members[0][0]
        try:
            with transaction.atomic():
                action = importer.apply_group(importer.organization(members[0][1]), members)
                if dry_run:
                    raise _Rollback(action)
        except _Rollback as undone:
            action = str(undone)
        except DomainError as exc:
            results.append(RowResult(first, REFUSED, key, exc.detail))
            continue
        results.append(RowResult(first, action, key, f"{len(members)} rows"))
    return sorted(results, key=lambda r: r.line)


def _apply_row(importer: _Importer, line: int, row: dict[str, str], dry_run: bool) -> RowResult:
    if None in row:  # csv puts surplus cells under the key None
        return RowResult(line, REFUSED, "", "more cells than columns")
    missing = [c for c in importer.required if not _cell(row, c)]
    key = importer.key(row)
    if missing:
        return RowResult(line, REFUSED, key, f"empty {', '.join(missing)}")
    first = importer.seen.setdefault(key, line)
    if first != line:
        return RowResult(line, REFUSED, key, f"same key as line {first}")
    try:
        if dry_run:
            with transaction.atomic():
                raise _Rollback(importer.apply(row))
        # Each apply() makes exactly one call to an atomic service: that is the row's
        # transaction (no outer one, whose savepoints would cost a third of the statements).
        action = importer.apply(row)
    except _Rollback as undone:
        action = str(undone)
    except DomainError as exc:
        return RowResult(line, REFUSED, key, exc.detail)
    return RowResult(line, action, key)

"""Billing writes on invoices: invoices (draft → issued → paid/void), credit notes, payments
and their allocation, and the billing run's keys. Subscription changes (B-5), suspension
decisions (B-4) and dunning's contract moves are in ``services_subscriptions.py``.

The billing run lives in ``runs.py`` and issues through :func:`invoices_issue_many`; the
rules are the pure ``billing.domain`` functions. Every state change writes an
``InvoiceEvent`` in the same transaction (house rule 8), naming the person who did it when a
person did (``actor``) and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model

from supportdesk.billing import selectors
from supportdesk.billing.domain.billing_run import IdempotencyKey
from supportdesk.billing.domain.lines import PriceLine, tax_line
from supportdesk.billing.domain.money import Money, MoneyError, sum_money
from supportdesk.billing.domain.pricing import (
    apply_payment,
)
from supportdesk.billing.models import (
    BillingRunKey,
    Invoice,
    InvoiceCounter,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    Payment,
    PaymentAllocation,
)
from supportdesk.contracts.models import (
    Contract,
    ContractState,
    TimeEntry,
)
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization

DEFAULT_PAYMENT_TERMS_DAYS = 30


def _require_billing_staff(principal: Principal | None, vendor_id: int) -> None:
    """None is the system itself (billing run, demo loader)."""
    if principal is None:
        return
    if not principal.is_staff or not principal.has_role("billing", "admin"):
        raise Forbidden("only billing staff may do this")
    require_staff_of(principal, vendor_id)


def _actor(principal: Principal | None) -> int | None:
    return principal.user_id if principal is not None else None


def _reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(f"give a reason for {what}")
    return text


@dataclass(frozen=True)
class LineInput:
    """A computed domain line plus what it refers to (B-1)."""

    line: PriceLine
    contract: Contract | None = None
    time_entry: TimeEntry | None = None
    fee_for: Invoice | None = None
    time_entry_id: int | None = None  # when only the id is at hand (the hourly run)


def _event(
    invoice: Invoice, kind: str, detail: str, now: datetime, actor_id: int | None = None
) -> None:
    InvoiceEvent.objects.create(
        invoice=invoice, at=now, kind=kind, detail=detail, actor_id=actor_id
    )


def _total(lines: Sequence[LineInput], currency: str) -> Money:
    if not lines:
        raise InvalidInput("an invoice needs at least one line")
    for item in lines:
        if item.line.currency != currency:
            raise InvalidInput(f"line in {item.line.currency}, invoice in {currency}")
    return sum_money((item.line.amount for item in lines), currency)


def _taxed(
    lines: Sequence[LineInput],
    currency: str,
    rates: dict[int, tuple[Decimal, str]],
    organization_id: int | None = None,
) -> Sequence[LineInput]:
    """The lines plus a tax line when the organisation's rate is not zero (B-1)."""
    rate, label = rates[organization_id if organization_id is not None else next(iter(rates))]
    if not rate or not lines:
        return lines
    return [*lines, LineInput(tax_line([x.line for x in lines], currency, rate, label))]


# The stored columns of a line (attnames) besides its invoice, in the order of ``_line_values``.
LINE_FIELDS = (
    "position", "kind", "description", "quantity", "unit_price", "amount", "period_start",
    "period_end", "worked_from", "worked_to", "contract_id", "time_entry_id", "fee_for_id",
)  # fmt: skip


def _line_values(lines: Sequence[LineInput], *head: Any) -> list[tuple[Any, ...]]:
    """The stored lines as tuples of ``head`` (e.g. the invoice id) + ``LINE_FIELDS``: hourly
    lines keep their worked datetimes and the dates they fall on; term lines their dates.
    Tuples, not dicts: a billing run stores a million lines."""
    rows = []
    for position, item in enumerate(lines, start=1):
        line = item.line
        start, end = line.period_start, line.period_end
        entry = item.time_entry.pk if item.time_entry is not None else item.time_entry_id
        moments = isinstance(start, datetime)  # both or neither (PriceLine checks)
        rows.append(
            (
                *head,
                position,
                str(line.kind),
                line.description[:400],
                line.quantity,
                line.unit_price.amount,
                line.amount.amount,
                start.date() if moments else start,  # type: ignore[union-attr]
                end.date() if isinstance(end, datetime) else end,
                start if moments else None,
                end if isinstance(end, datetime) else None,
                item.contract.pk if item.contract is not None else None,
                entry,
                item.fee_for.pk if item.fee_for is not None else None,
            )
        )
    return rows


def _insert(model: type[Model], rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert rows (field attname → value) of one model, see ``_insert_rows``."""
    if not rows:
        return []
    names = list(rows[0])
    # itemgetter picks a row's values in C: a billing run copies hundreds of thousands of rows
    return _insert_rows(model, names, list(map(itemgetter(*names), rows)), ids=ids)


def _insert_rows(
    model: type[Model], names: Sequence[str], values: list[tuple[Any, ...]], *, ids: bool = False
) -> list[int]:
    """Insert rows (tuples of the fields ``names``, attnames) of one model with as few
    statements as the database allows, and return their new primary keys when ``ids``.
    PostgreSQL copies them in (``COPY … FROM STDIN``: a billing run writes hundreds of
    thousands of lines, and compiling INSERTs for them costs more than the database's own
    work); other databases get batched INSERTs. No ``save()`` runs: only for rows that are
    new by construction."""
    if not values:
        return []
    if connection.vendor != "postgresql":
        made = model._default_manager.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in values], batch_size=500
        )
        return [obj.pk for obj in made] if ids else []
    meta = model._meta
    by_attname = {f.attname: str(f.column) for f in meta.concrete_fields}
    columns = [by_attname[n] for n in names]
    keys: list[int] = []
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, by_attname[meta.pk.attname], len(values)],
            )
            keys = [pk for (pk,) in cursor.fetchall()]
            columns.insert(0, by_attname[meta.pk.attname])
            values = [(pk, *row) for pk, row in zip(keys, values, strict=True)]
        sql = f"COPY {q(meta.db_table)} ({', '.join(q(c) for c in columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
    return keys


def _line_rows(invoice: Invoice, lines: Sequence[LineInput]) -> list[InvoiceLine]:
    return [
        InvoiceLine(invoice=invoice, **dict(zip(LINE_FIELDS, row, strict=True)))
        for row in _line_values(lines)
    ]


@transaction.atomic
def invoice_draft_create(
    *,
    vendor: Vendor,
    organization: Organization,
    currency: str,
    lines: Sequence[LineInput],
    now: datetime,
    contract: Contract | None = None,
    kind: str = InvoiceKind.INVOICE,
    credits: Invoice | None = None,
    memo: str = "",
    principal: Principal | None = None,
) -> Invoice:
    """A draft invoice with its lines; drafts have no number."""
    _require_billing_staff(principal, vendor.pk)
    if organization.vendor_id != vendor.pk:
        raise InvalidInput("the organisation belongs to another vendor")
    if kind == InvoiceKind.INVOICE:
        lines = _taxed(lines, currency, selectors.tax_rates(vendor.pk, [organization.pk]))
    total = _total(lines, currency)
    invoice = Invoice.objects.create(
        vendor=vendor,
        organization=organization,
        contract=contract,
        kind=kind,
        credits=credits,
        currency=currency,
        total=total.amount,
        memo=memo,
        created_at=now,
        updated_at=now,
    )
    InvoiceLine.objects.bulk_create(_line_rows(invoice, lines))
    _event(invoice, "created", f"draft, total {total}", now, _actor(principal))
    return invoice


def _reserve_numbers(vendor_id: int, count: int) -> int:
    """The first of ``count`` consecutive, gap-free invoice numbers of the vendor, with one
    ``UPDATE … RETURNING`` of the counter row. The update locks that row until the
    surrounding transaction ends, so concurrent issuers queue and none skips or repeats a
    number (a rolled-back issue gives its numbers back); the caller must use them all in that
    transaction. The row is created the first time, once even when two issuers race."""
    table = connection.ops.quote_name(InvoiceCounter._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_number = last_number + %s "  # noqa: S608
        "WHERE vendor_id = %s RETURNING last_number"
    )
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [count, vendor_id])
            row = cursor.fetchone()
        if row is not None:
            return int(row[0]) - count + 1
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(vendor_id=vendor_id, last_number=0)
        except IntegrityError:
            pass  # another transaction created it first
    raise RuntimeError(f"no invoice counter for vendor {vendor_id}")


@transaction.atomic
def invoice_issue(
    *,
    invoice: Invoice,
    issue_date: date,
    now: datetime,
    payment_terms_days: int = DEFAULT_PAYMENT_TERMS_DAYS,
    principal: Principal | None = None,
) -> Invoice:
    """Number and issue a draft (B-1). Locks the invoice and the vendor's counter row."""
    _require_billing_staff(principal, invoice.vendor_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state != InvoiceState.DRAFT:
        raise Conflict(f"{invoice.label} is already {invoice.state}", code="not_draft")
    invoice.number = _reserve_numbers(invoice.vendor_id, 1)
    invoice.state = InvoiceState.ISSUED
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + timedelta(days=payment_terms_days)
    invoice.updated_at = now
    invoice.save(update_fields=["number", "state", "issue_date", "due_date", "updated_at"])
    _event(
        invoice,
        "issued",
        f"{invoice.label} issued {issue_date.isoformat()}",
        now,
        _actor(principal),
    )
    return invoice


@dataclass(frozen=True)
class InvoiceDraft:
    """One invoice for :func:`invoices_issue_many`."""

    organization_id: int
    currency: str
    lines: Sequence[LineInput]
    contract_id: int | None = None
    memo: str = ""
    payment_terms_days: int = DEFAULT_PAYMENT_TERMS_DAYS


@transaction.atomic
def invoices_issue_many(
    *, vendor: Vendor, drafts: Sequence[InvoiceDraft], issue_date: date, now: datetime
) -> list[Invoice]:
    """Create and issue many invoices of one vendor at once (the billing run, B-1, B-9):
    the same invoices as ``invoice_draft_create`` + ``invoice_issue`` one by one, numbered
    consecutively in the given order, written with a handful of statements instead of a
    couple of dozen per invoice. Locks the vendor's counter row until the caller's
    transaction ends."""
    if not drafts:
        return []
    rates = selectors.tax_rates(vendor.pk, sorted({d.organization_id for d in drafts}))
    if any(rate for rate, _ in rates.values()):
        drafts = [
            replace(d, lines=_taxed(d.lines, d.currency, rates, d.organization_id)) for d in drafts
        ]
    totals = [_total(d.lines, d.currency) for d in drafts]
    first = _reserve_numbers(vendor.pk, len(drafts))
    heads = [
        {
            "vendor_id": vendor.pk,
            "organization_id": draft.organization_id,
            "contract_id": draft.contract_id,
            "kind": InvoiceKind.INVOICE.value,
            "credits_id": None,
            "number": first + i,
            "currency": draft.currency,
            "state": InvoiceState.ISSUED.value,
            "issue_date": issue_date,
            "due_date": issue_date + timedelta(days=draft.payment_terms_days),
            "total": total.amount,
            "amount_paid": Decimal(0),
            "amount_credited": Decimal(0),
            "memo": draft.memo,
            "created_at": now,
            "updated_at": now,
        }
        for i, (draft, total) in enumerate(zip(drafts, totals, strict=True))
    ]
    keys = _insert(Invoice, heads, ids=True)
    invoices = [Invoice(pk=pk, **head) for pk, head in zip(keys, heads, strict=True)]
    for invoice in invoices:
        invoice._state.adding = False
    lines: list[tuple[Any, ...]] = []
    for invoice, draft in zip(invoices, drafts, strict=True):
        lines += _line_values(draft.lines, invoice.pk)
    _insert_rows(InvoiceLine, ("invoice_id", *LINE_FIELDS), lines)
    _insert(
        InvoiceEvent,
        [
            {
                "invoice_id": invoice.pk,
                "at": now,
                "kind": "issued",
                "detail": f"{invoice.label} issued {issue_date.isoformat()} by the billing run, "
                f"total {total}",
                "actor_id": None,
            }
            for invoice, total in zip(invoices, totals, strict=True)
        ],
    )
    return invoices


@transaction.atomic
def invoice_void(
    *, invoice: Invoice, reason: str, now: datetime, principal: Principal | None = None
) -> Invoice:
    """Void an issued invoice nothing was paid or credited on. Paid invoices need a credit
    note instead. Locks the invoice."""
    _require_billing_staff(principal, invoice.vendor_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state != InvoiceState.ISSUED:
        raise Conflict(f"only an issued invoice can be voided; {invoice.label} is {invoice.state}")
    if invoice.amount_paid or invoice.amount_credited:
        raise Conflict(f"{invoice.label} has payments or credits; issue a credit note instead")
    text = _reason(reason, "voiding")
    invoice.state = InvoiceState.VOID
    invoice.updated_at = now
    invoice.save(update_fields=["state", "updated_at"])
    _event(invoice, "voided", text, now, _actor(principal))
    return invoice


@transaction.atomic
def credit_note_create(
    *,
    invoice: Invoice,
    reason: str,
    now: datetime,
    issue_date: date,
    amount: Decimal | None = None,
    principal: Principal | None = None,
) -> Invoice:
    """A numbered credit note against an issued invoice (correction, B-1): one negative line
    of ``amount`` (default: the open balance). Locks the original invoice."""
    _require_billing_staff(principal, invoice.vendor_id)
    original = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if original.kind != InvoiceKind.INVOICE or original.state not in (
        InvoiceState.ISSUED,
        InvoiceState.PAID,
    ):
        raise Conflict(f"{original.label} cannot be credited ({original.kind}, {original.state})")
    text = _reason(reason, "the credit note")
    creditable = original.total - original.amount_credited
    value = original.balance if amount is None else amount
    try:
        credit = Money(Decimal(value), original.currency)
    except (MoneyError, InvalidOperation):
        raise InvalidInput(f"not an exact amount in {original.currency}: {value}") from None
    if credit.amount <= 0 or credit.amount > creditable:
        raise InvalidInput(f"credit must be more than 0 and at most {creditable}")
    line = PriceLine(
        description=f"Credit for {original.label}: {text}",
        quantity=Decimal(1),
        unit_price=-credit,
        amount=-credit,
        period_start=None,
        period_end=None,
        kind="credit",  # type: ignore[arg-type]
        reference=original.label,
    )
    note = invoice_draft_create(
        vendor=original.vendor,
        organization=original.organization,
        currency=original.currency,
        lines=[LineInput(line, contract=original.contract, fee_for=original)],
        now=now,
        contract=original.contract,
        kind=InvoiceKind.CREDIT_NOTE,
        credits=original,
        memo=text,
        principal=principal,
    )
    note = invoice_issue(
        invoice=note, issue_date=issue_date, now=now, payment_terms_days=0, principal=principal
    )
    Invoice.objects.filter(pk=note.pk).update(state=InvoiceState.PAID)
    note.state = InvoiceState.PAID
    original.amount_credited += credit.amount
    fields = ["amount_credited", "updated_at"]
    if original.balance <= 0 and original.state == InvoiceState.ISSUED:
        original.state = InvoiceState.PAID
        fields.append("state")
    original.updated_at = now
    original.save(update_fields=fields)
    _event(original, "credited", f"{note.label}: {credit} — {text}", now, _actor(principal))
    return note


# --- one-off charges -------------------------------------------------------------------------


@transaction.atomic
def one_off_charge_create(
    *,
    organization: Organization,
    description: str,
    unit_price: Decimal | str,
    reason: str,
    issue_date: date,
    now: datetime,
    quantity: Decimal | str | int = 1,
    currency: str = "USD",
    contract: Contract | None = None,
    payment_terms_days: int = DEFAULT_PAYMENT_TERMS_DAYS,
    principal: Principal | None = None,
) -> Invoice:
    """An ad-hoc charge (B-1): one invoice with one ``one_off`` line that says what it is for,
    issued at once; the reason is kept on the invoice (memo and event). E.g. an on-site
    visit, a repair the manufacturer billed (H-3). Billing staff only."""
    _require_billing_staff(principal, organization.vendor_id)
    text = _reason(reason, "the charge")
    what = (description or "").strip()
    if not what:
        raise InvalidInput("say what the charge is for (B-1)")
    if contract is not None and contract.organization_id != organization.pk:
        raise InvalidInput("the contract belongs to another organisation")
    try:
        price = Money(Decimal(str(unit_price)), currency.upper())
        qty = Decimal(str(quantity))
    except (MoneyError, InvalidOperation, ValueError):
        raise InvalidInput(
            f"not an exact amount in {currency}: {unit_price!r} × {quantity!r}"
        ) from None
    if price.amount <= 0 or not qty.is_finite() or qty <= 0:
        raise InvalidInput("a one-off charge needs a positive price and quantity")
    amount = price.times(qty)
    line = PriceLine(
        description=f"{what} ({text})"[:400],
        quantity=qty,
        unit_price=price,
        amount=amount,
        period_start=None,
        period_end=None,
        kind="one_off",  # type: ignore[arg-type]
    )
    draft = invoice_draft_create(
        vendor=organization.vendor,
        organization=organization,
        currency=price.currency,
        lines=[LineInput(line, contract=contract)],
        now=now,
        contract=contract,
        memo=f"one-off charge: {text}",
        principal=principal,
    )
    return invoice_issue(
        invoice=draft,
        issue_date=issue_date,
        now=now,
        payment_terms_days=payment_terms_days,
        principal=principal,
    )


# --- payments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    allocations: list[tuple[Invoice, Decimal]]
    reinstated: list[Contract]


def _allocate(
    *,
    organization: Organization,
    currency: str,
    on: date,
    now: datetime,
    principal: Principal | None,
) -> tuple[list[tuple[Invoice, Decimal]], list[Contract]]:
    """Apply every unapplied payment of the organisation (oldest received first) to its open
    invoices in that currency (oldest due first, the domain's ``apply_payment``). Locks the
    payments and invoices. A contract whose every overdue invoice is now settled goes back to
    active (B-4)."""
    payments = list(
        Payment.objects.select_for_update()
        .filter(organization=organization, currency=currency, unapplied__gt=0)
        .order_by("received_on", "pk")
    )
    allocations: list[tuple[Invoice, Decimal]] = []
    contracts: dict[int, Contract] = {}
    for payment in payments:
        open_invoices = list(
            Invoice.objects.select_for_update(of=("self",))
            .filter(
                organization=organization,
                currency=currency,
                kind=InvoiceKind.INVOICE,
                state=InvoiceState.ISSUED,
            )
            .select_related("contract")
            .order_by("due_date", "number")
        )
        if not open_invoices:
            break
        balances = [Money(inv.balance, currency) for inv in open_invoices]
        application = apply_payment(Money(payment.unapplied, currency), balances)
        for inv, part in zip(open_invoices, application.applied, strict=True):
            if part.is_zero():
                continue
            PaymentAllocation.objects.create(payment=payment, invoice=inv, amount=part.amount)
            inv.amount_paid += part.amount
            fields = ["amount_paid", "updated_at"]
            if inv.balance <= 0:
                inv.state = InvoiceState.PAID
                fields.append("state")
            inv.updated_at = now
            inv.save(update_fields=fields)
            detail = f"{part} of payment {payment.pk}"
            _event(inv, "payment", f"{detail} ({payment.reference})", now, _actor(principal))
            allocations.append((inv, part.amount))
            if inv.contract is not None:
                contracts[inv.contract.pk] = inv.contract
        payment.unapplied = application.unapplied.amount
        payment.save(update_fields=["unapplied"])
    reinstated = [
        term
        for c in contracts.values()
        for term in _reinstate_if_settled(c, on=on, now=now, principal=principal)
    ]
    return allocations, reinstated


@transaction.atomic
def payment_record(
    *,
    organization: Organization,
    amount: Decimal | str,
    currency: str,
    received_on: date,
    now: datetime,
    reference: str = "",
    principal: Principal | None = None,
) -> PaymentResult:
    """Record a payment and allocate it, with any earlier money on account, to the
    organisation's open invoices, oldest due first; what is left stays on account for the
    next invoice (see :func:`_allocate`). Partial payments leave the rest of an invoice open."""
    _require_billing_staff(principal, organization.vendor_id)
    try:
        paid = Money(Decimal(amount), currency)
    except (MoneyError, InvalidOperation, TypeError, ValueError):
        raise InvalidInput(f"not an exact amount in {currency}: {amount!r}") from None
    if paid.amount <= 0:
        raise InvalidInput("a payment must be positive")
    payment = Payment.objects.create(
        vendor_id=organization.vendor_id,
        organization=organization,
        currency=paid.currency,
        amount=paid.amount,
        unapplied=paid.amount,
        received_on=received_on,
        reference=reference.strip()[:100],
        created_at=now,
        recorded_by_id=_actor(principal),
    )
    allocations, reinstated = _allocate(
        organization=organization,
        currency=paid.currency,
        on=received_on,
        now=now,
        principal=principal,
    )
    payment.refresh_from_db()
    return PaymentResult(payment, allocations, reinstated)


def terms_from(contract: Contract) -> list[Contract]:
    """The contract and the signed terms that renewed it, oldest first: dunning moves them
    together (an unpaid term suspends its renewal too), and a payment reinstates them
    together."""
    terms = [contract]
    while True:
        nxt = (
            Contract.objects.filter(predecessor=terms[-1])
            .exclude(state__in=(ContractState.DRAFT, ContractState.CANCELLED))
            .order_by("start")
            .first()
        )
        if nxt is None:
            return terms
        terms.append(nxt)


def _reinstate_if_settled(
    contract: Contract, *, on: date, now: datetime, principal: Principal | None
) -> list[Contract]:
    """B-4: once nothing of the contract (or its renewals) is overdue, the past-due or
    suspended terms go back to active — a reinstatement, which charges the reinstatement fee
    when the past-due clock had reached its threshold
    (``services_reinstatement.reinstatement_on_payment``)."""
    from supportdesk.billing.services_reinstatement import reinstatement_on_payment

    terms = terms_from(Contract.objects.get(pk=contract.pk))
    chased = [t for t in terms if t.state in (ContractState.PAST_DUE, ContractState.SUSPENDED)]
    if not chased:
        return []
    still_overdue = Invoice.objects.filter(
        contract__in=terms, state=InvoiceState.ISSUED, kind=InvoiceKind.INVOICE, due_date__lt=on
    ).exists()
    if still_overdue:
        return []
    reinstatement_on_payment(contract=chased[0], on=on, now=now, principal=principal)
    return chased


# --- run keys --------------------------------------------------------------------------------


def run_key_record(
    *,
    vendor_id: int,
    key: IdempotencyKey,
    run_date: date,
    now: datetime,
    note: str,
    invoice: Invoice | None = None,
) -> BillingRunKey | None:
    """Insert one action key in a savepoint; None when it is already held (B-9)."""
    try:
        with transaction.atomic():
            return BillingRunKey.objects.create(
                vendor_id=vendor_id,
                subject=key.contract_id,
                purpose=key.purpose,
                on=key.on,
                invoice=invoice,
                note=note[:200],
                run_date=run_date,
                created_at=now,
            )
    except IntegrityError:
        return None

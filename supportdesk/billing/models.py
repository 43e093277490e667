"""Invoices, lines, payments, rate cards and billing-run keys (B-1..B-9).

Money is a ``DecimalField`` beside a currency code; the domain's ``Money`` is built from them.
Issued invoices and their lines are immutable: ``save()`` refuses to change an issued invoice
except through the few fields the payment/void services move (``MUTABLE_AFTER_ISSUE``), and
lines of a non-draft invoice cannot be saved or deleted. Corrections are credit notes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


def money_field(**kwargs: Any) -> Any:
    """An exact amount (the currency is a sibling field)."""
    return models.DecimalField(max_digits=16, decimal_places=3, **kwargs)


class ImmutableInvoiceError(RuntimeError):
    """An issued invoice (or its lines) was about to be changed."""


class BillingCycle(models.TextChoices):
    ANNUAL = "annual", "Annual"
    MONTHLY = "monthly", "Monthly"


class SuspendMode(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    APPROVAL = "approval", "On approval"
    NEVER = "never", "Never (past due only)"


class PastDueClock(models.TextChoices):
    """Where the past-due days of B-4 (the 30-day reinstatement fee, the 45-day suspension)
    are counted from."""

    DUE_DATE = "due_date", "The invoice's due date"
    TERM_END = "term_end", "The end of the term (the paid coverage)"


class CountChanges(models.TextChoices):
    CONFIRM = "confirm", "Billing staff confirm"
    AUTOMATIC = "automatic", "Applied automatically"


class RateCard(models.Model):
    """Hourly rates per period kind (B-7, B-8) with the calendar that defines the periods.

    Which card prices a customer's work: its own cards (``organization``, an override), else
    the card of the plan of its hourly agreement (``Plan.rate_card_id``), else the vendor's
    cards that belong to no customer and no plan — the non-subscriber rates (B-8). Cards of
    one scope are dated by ``effective_from`` (then-current rates)."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="rate_cards")
    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rate_cards",
        help_text="A customer's own rates (override); empty for the vendor's cards.",
    )
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default="USD")
    business_rate = money_field()
    after_hours_rate = money_field()
    weekend_rate = money_field()
    holiday_rate = money_field()
    increment_minutes = models.PositiveIntegerField(default=15)
    rounding = models.CharField(max_length=10, default="up", help_text="up or nearest")
    minimum_charge = money_field(null=True, blank=True)
    calendar_spec = models.JSONField(
        default=dict, help_text="BusinessCalendar spec: timezone, weekly windows, holidays."
    )
    effective_from = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["vendor", "effective_from", "pk"]

    def __str__(self) -> str:
        return self.name


class PlanBilling(models.Model):
    """Billing parameters of a contracts Plan that the Plan model does not carry (B-3..B-6)."""

    plan = models.OneToOneField("contracts.Plan", on_delete=models.CASCADE, related_name="+")
    billing = models.CharField(
        max_length=10, choices=BillingCycle.choices, default=BillingCycle.ANNUAL
    )
    renewal_lead_months = models.PositiveIntegerField(default=1)
    annual_discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    payment_terms_days = models.PositiveIntegerField(default=30)
    reinstatement_after_days = models.PositiveIntegerField(default=30)
    reinstatement_percent = models.DecimalField(max_digits=7, decimal_places=4, default=5)
    suspend_after_days = models.PositiveIntegerField(default=45)
    suspend_mode = models.CharField(
        max_length=10, choices=SuspendMode.choices, default=SuspendMode.APPROVAL
    )
    lapse_after_days = models.PositiveIntegerField(null=True, blank=True)
    count_changes = models.CharField(
        max_length=10,
        choices=CountChanges.choices,
        default=CountChanges.CONFIRM,
        help_text="B-5, E-9: a changed inventory count is confirmed by billing staff or applied.",
    )
    past_due_clock = models.CharField(
        max_length=10,
        choices=PastDueClock.choices,
        default=PastDueClock.DUE_DATE,
        help_text="B-4: past-due days count from the due date or from the end of the term.",
    )


class VendorBilling(models.Model):
    """What the vendor's invoices say about the vendor (B-1): legal name, address, tax number,
    the tax it charges (zero by default), payment instructions and terms."""

    vendor = models.OneToOneField("core.Vendor", on_delete=models.CASCADE, related_name="+")
    legal_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=60, blank=True)
    tax_label = models.CharField(max_length=40, default="Tax", help_text="e.g. VAT, Sales tax")
    tax_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    payment_instructions = models.TextField(blank=True, help_text="Bank, account, reference.")
    terms = models.TextField(blank=True, help_text="Payment terms printed on every invoice.")


class CustomerBilling(models.Model):
    """What invoices say about one customer: billing name, address, tax number, and its own
    tax rate when it differs from the vendor's (e.g. exempt: 0)."""

    organization = models.OneToOneField(
        "customers.Organization", on_delete=models.CASCADE, related_name="billing_profile"
    )
    billing_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=60, blank=True)
    tax_percent = models.DecimalField(
        max_digits=7, decimal_places=4, null=True, blank=True, help_text="Empty: the vendor's."
    )


class InvoiceCounter(models.Model):
    """The last invoice number of a vendor; its row is locked by the UPDATE that takes numbers."""

    vendor = models.OneToOneField("core.Vendor", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveBigIntegerField(default=0)


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    MUTABLE_AFTER_ISSUE = frozenset({"state", "amount_paid", "amount_credited", "updated_at"})

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="invoices")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="invoices"
    )
    contract = models.ForeignKey(
        "contracts.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default="invoice")
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=InvoiceState.choices, default="draft")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    total = money_field(default=0)
    amount_paid = money_field(default=0)
    amount_credited = money_field(default=0)
    memo = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["vendor", "number", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "number"], name="uniq_invoice_number"),
            models.CheckConstraint(
                condition=models.Q(state="draft", number__isnull=True)
                | (~models.Q(state="draft") & models.Q(number__isnull=False)),
                name="invoice_number_iff_issued",
            ),
        ]
        indexes = [models.Index(fields=["organization", "state"], name="invoice_org_state")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.number is None:
            return f"draft {self.pk}"
        return f"{'CN' if self.kind == InvoiceKind.CREDIT_NOTE else 'INV'}-{self.number:06d}"

    @property
    def balance(self) -> Any:
        return self.total - self.amount_paid - self.amount_credited

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = Invoice.objects.filter(pk=self.pk).values_list("state", flat=True).first()
            if stored is not None and stored != InvoiceState.DRAFT:
                fields = kwargs.get("update_fields")
                if fields is None or not set(fields) <= self.MUTABLE_AFTER_ISSUE:
                    raise ImmutableInvoiceError(f"{self.label} is issued and cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.state != InvoiceState.DRAFT:
            raise ImmutableInvoiceError(f"{self.label} is issued and cannot be deleted")
        return super().delete(*args, **kwargs)


class InvoiceLine(models.Model):
    """One line; every line says what it is for (B-1): kind, period, and its source."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=30)
    description = models.CharField(max_length=400)
    quantity = models.DecimalField(max_digits=16, decimal_places=6)
    unit_price = money_field()
    amount = money_field()
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True, help_text="Exclusive.")
    worked_from = models.DateTimeField(null=True, blank=True)
    worked_to = models.DateTimeField(null=True, blank=True)
    # The three sources are indexed only where set (``Meta.indexes``): a line has one at most
    # (a term line its contract, an hourly line its time entry, a fee its invoice), and a
    # billing run writes a million lines, each of which updated all four indexes before.
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    time_entry = models.ForeignKey(
        "contracts.TimeEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
        db_index=False,
    )
    fee_for = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_lines",
        db_index=False,
    )

    class Meta:
        ordering = ["invoice", "position"]
        indexes = [
            models.Index(
                fields=[name], condition=models.Q(**{f"{name}__isnull": False}), name=f"line_{name}"
            )
            for name in ("contract", "time_entry", "fee_for")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        state = Invoice.objects.filter(pk=self.invoice_id).values_list("state", flat=True).first()
        if state is not None and state != InvoiceState.DRAFT:
            raise ImmutableInvoiceError("lines of an issued invoice cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.invoice.state != InvoiceState.DRAFT:
            raise ImmutableInvoiceError("lines of an issued invoice cannot be deleted")
        return super().delete(*args, **kwargs)


class InvoiceEvent(models.Model):
    """Append-only audit of invoices and payments (house rule 8)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30)
    detail = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who did it; empty for the billing run itself.",
    )

    class Meta:
        ordering = ["at", "pk"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("invoice events are append-only")
        super().save(*args, **kwargs)


class Payment(models.Model):
    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="payments"
    )
    currency = models.CharField(max_length=3)
    amount = money_field()
    unapplied = money_field(default=0)
    received_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "currency"], name="payment_org_currency")]


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = money_field()


class BillingRunKey(models.Model):
    """One row per billing action ever carried out (B-9): the domain IdempotencyKey
    ``(subject, purpose, on)`` is unique, so a second issue is impossible, not just unlikely.

    ``invoice`` is the invoice the action issued or, for a dunning step (past due, suspension
    request), the unpaid invoice it is about."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(max_length=60, help_text="contract id, or org-<id> for hourly")
    purpose = models.CharField(max_length=40)
    on = models.DateField()
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    run_date = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "subject", "purpose", "on"], name="uniq_billing_run_key"
            )
        ]


class UserCountChangeState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPLIED = "applied", "Applied"
    DECLINED = "declined", "Declined"
    SUPERSEDED = "superseded", "Superseded by a later count"


class UserCountChange(models.Model):
    """A per-user subscription's users, counted from the customer's inventory (E-9), and the
    change it makes to what the subscription bills (B-5). ``explanation`` keeps the count item
    by item as it was (why each device, extension or person counts or not): invoice lines
    link to it, so the explanation of a bill never changes with a later inventory."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="user_count_changes"
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="user_count_changes"
    )
    counted_at = models.DateTimeField()
    effective_on = models.DateField()
    users_before = models.PositiveIntegerField()
    users_after = models.PositiveIntegerField()
    explanation = models.JSONField(default=list)
    state = models.CharField(
        max_length=12, choices=UserCountChangeState.choices, default="proposed"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["counted_at", "pk"]
        indexes = [models.Index(fields=["contract", "state"], name="count_change_contract")]


class BillingChoice(models.Model):
    """The customer's choice between monthly instalments and annual billing with the plan's
    discount for a per-user subscription (B-5), from `effective_from` — the start of a term —
    on. Kept on the contract's first term (`contract`), the one a renewal chain is known by.

    Append-only, the history of who chose what: for a term, the most recent choice whose
    `effective_from` is on or before the term's start wins; before any, the plan's billing."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="+")
    billing = models.CharField(max_length=10, choices=BillingCycle.choices)
    effective_from = models.DateField()
    chosen_at = models.DateTimeField()
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["contract", "chosen_at"], name="billing_choice_contract")]
        ordering = ["chosen_at", "pk"]

    def __str__(self) -> str:
        return f"{self.billing} from {self.effective_from} ({self.contract_id})"

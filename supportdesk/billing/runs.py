"""The billing run (B-3 … B-9): renewals and instalments, dunning, hourly invoices.

Set-based and streamed
    Contracts are read a batch of organisations at a time and grouped into chains: a renewal
    is a new Contract whose ``predecessor`` is the previous term; a chain is keyed by its
    first contract (``subject`` = that id) and its schedule is anchored at that start, so
    there is one key per service period across renewals. For a batch the run reads the keys
    already done and each chain's oldest unpaid invoice with a couple of queries, asks the
    pure ``plan_billing_run`` what to do, and carries the whole batch out in ONE transaction
    that first claims every action's ``BillingRunKey`` (unique on vendor, subject, purpose,
    date; ``INSERT … ON CONFLICT DO NOTHING RETURNING``). Only the keys it inserted are carried
    out, so a second run — or a concurrent one, which waits on those rows — issues nothing
    twice (B-9). The batch's invoices are written by ``services.invoices_issue_many`` with
    consecutive numbers. Hourly work goes the same way, a batch of organisations at a time.

Renewals (B-3)
    The invoice for the first period of a new term is the renewal invoice, issued
    ``renewal_lead_months`` before the term starts. Issuing it signs the next term through
    the contracts services — the draft renewal someone prepared, or else a copy of the last
    term's lines with the users counted on its last day — so entitlement carries on at expiry
    and the contracts expiry sweep sees a renewal.

Dunning (B-4, B-6), per chain on its oldest unpaid invoice
    past due the day after the plan's past-due clock starts (the due date, or with
    ``past_due_clock="term_end"`` the end of the paid term); suspension at 45 days once the
    paid coverage has ended — automatic, or a request that a person approves or
    declines (``services_subscriptions.suspension_request_decide``). A per-user subscription
    whose renewal is still unpaid when the term ends lapses: the unpaid renewal term is
    cancelled and its invoice voided, the old term is recorded as lapsed, and renewing later
    is a reinstatement (``services_reinstatement.contract_reinstate``: backfill to the
    original expiry + reinstatement fee). The run never charges the reinstatement fee: it is
    charged when the contract is reinstated.

Invoice date
    A scheduled invoice is dated the day it is actually issued (a catch-up run does not
    back-date invoices) and falls due ``payment_terms_days`` later.

Modules
    This one holds the entry point (:func:`billing_run`);
    ``runs_chains.py`` the chains, period prices and key claims they share,
    ``runs_contracts.py`` renewals, instalments and dunning, ``runs_hourly.py`` hourly work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.db import connection

from supportdesk.billing.models import BillingRunKey, Invoice, InvoiceLine
from supportdesk.billing.runs_chains import (
    Progress,
    RunSummary,
    _no_listing,
    _no_progress,
)
from supportdesk.billing.runs_contracts import contract_run
from supportdesk.billing.runs_hourly import hourly_run
from supportdesk.contracts.models import Contract
from supportdesk.core.models import Vendor

# A pass that issued at least this many invoices refreshes the planner statistics (below);
# fewer are autovacuum's business (it analyses a table once a tenth of it changed).
BULK_INVOICES = 1000
WRITTEN = ("invoices", "hourly_invoices")


def billing_run(
    *,
    today: date,
    now: datetime,
    dry_run: bool = False,
    vendor: Vendor | None = None,
    progress: Progress = _no_progress,
    listing: Callable[[str], None] | None = None,
) -> RunSummary:
    """Renewals and instalments (B-3, B-5), dunning (B-4, B-6), hourly invoices (B-7, B-8)
    for one vendor or all. Idempotent (B-9): every action is keyed, see the module
    docstring. ``listing`` receives each action's text as it is carried out."""
    summary = RunSummary(today=today, dry_run=dry_run, listing=listing or _no_listing)
    vendors = [vendor] if vendor is not None else list(Vendor.objects.order_by("pk"))
    for v in vendors:
        for run in (contract_run, hourly_run):
            issued = sum(summary.counts.get(k, 0) for k in WRITTEN)
            run(v, today, now, summary, progress)
            written = sum(summary.counts.get(k, 0) for k in WRITTEN) - issued
            if not summary.dry_run and written >= BULK_INVOICES:
                _analyze()
    return summary


def _analyze() -> None:
    """Refresh PostgreSQL's statistics of the tables a pass filled in bulk, as after any bulk
    load: the next pass and the next run read them by contract, subject and time entry, and
    on statistics taken before the load the planner scans whole tables for each batch (the
    key lookup of a re-run over 100,000 contracts: 90 ms a batch before, 1 ms after)."""
    if connection.vendor != "postgresql":
        return  # SQLite's ANALYZE reads whole tables; its planner does without
    tables = (Invoice, InvoiceLine, BillingRunKey, Contract)
    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")

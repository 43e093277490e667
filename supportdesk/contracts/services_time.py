"""Editing logged time (issue 10.7). An entry is its author's: only the engineer who logged it
may change or remove it, and only until a billing run has invoiced it (the invoice is issued
and immutable, B-1, so the time it charged for must stay as it was)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from supportdesk.contracts.models import TimeEntry
from supportdesk.contracts.services import time_entry_span
from supportdesk.core.errors import Conflict, Forbidden
from supportdesk.core.tenancy import Principal, require_staff_of


def _editable(principal: Principal, entry: TimeEntry) -> TimeEntry:
    require_staff_of(principal, entry.vendor_id)
    # Lock the row: a billing run invoicing it meanwhile must wait for this change, or win.
    locked = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.engineer_id != principal.user_id:
        raise Forbidden("only the engineer who logged this time may change it")
    if locked.invoice_lines.exists():  # type: ignore[attr-defined]
        raise Conflict("this time is invoiced already and cannot change", code="invoiced")
    return locked


@transaction.atomic
def time_entry_update(
    *,
    principal: Principal,
    entry: TimeEntry,
    started_at: datetime,
    work_kind: str,
    category: str,
    now: datetime,
    ended_at: datetime | None = None,
    minutes: int | None = None,
    billable: bool = True,
    note: str = "",
) -> TimeEntry:
    """Change a time entry by the rules it was logged under (``time_entry_span``)."""
    locked = _editable(principal, entry)
    ended_at, total = time_entry_span(
        started_at=started_at, ended_at=ended_at, minutes=minutes, work_kind=work_kind,
        category=category, now=now,
    )  # fmt: skip
    locked.started_at, locked.ended_at, locked.minutes = started_at, ended_at, total
    locked.work_kind, locked.category = work_kind, category
    locked.billable, locked.note = billable, note.strip()
    locked.save()
    return locked


@transaction.atomic
def time_entry_delete(*, principal: Principal, entry: TimeEntry) -> None:
    _editable(principal, entry).delete()

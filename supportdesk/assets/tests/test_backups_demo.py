"""The phone-system preset ships devices with backups (issue 13 item 4): one overdue, one of an
end-of-life model without a schedule, a lapsed customer's backups eligible for deletion; and
an on-site visit billable on a covered subscription (seed 002)."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.accounts.models import User
from supportdesk.assets import selectors_backups
from supportdesk.assets.models import Asset, BackupRetention, ConfigBackup
from supportdesk.contracts.models import TicketEntitlement
from supportdesk.core.tenancy import principal_for
from supportdesk.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_phone_preset_devices_and_backups_H4_E10_seed002(settings: Any, tmp_path: Any) -> None:
    from supportdesk.core import clock
    from supportdesk.demo.load import demo_load

    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    engineer = User.objects.get(email="tech@bluebell-phones.example")
    rows = selectors_backups.backup_due_list(principal=principal_for(engineer), now=clock.now())
    assert [r.asset.serial for r in rows if r.due and r.due.overdue] == ["BPX5-00417"]
    assert "CS20-11802" in [r.asset.serial for r in rows]  # backed up two months ago
    listed = {r.asset.serial for r in rows}
    assert "AG4-77310" not in listed and "BPX5-00988" not in listed  # EOL; lapsed
    eol = Asset.objects.get(serial="AG4-77310")
    row, _ = selectors_backups.backup_schedule_for(asset=eol, now=clock.now())
    assert row.due is None and row.reason.startswith("end of life since")  # type: ignore[union-attr]
    retention = BackupRetention.objects.get(organization__name="Pine Street Realty")
    assert retention.kept_at is None and retention.deleted_at is None
    assert OutboxMessage.objects.filter(recipient="liam@pinerealty.example").exists()
    assert ConfigBackup.objects.filter(asset__vendor__slug="phones").count() == 4
    visit = TicketEntitlement.objects.get(ticket__subject__startswith="Wall phone in surgery 2")
    assert visit.category == "on_site" and visit.billing == "hourly" and visit.contract_id
    count = ConfigBackup.objects.count()
    demo_load()
    assert ConfigBackup.objects.count() == count

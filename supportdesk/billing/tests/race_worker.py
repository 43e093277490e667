"""One racer of test_django_concurrency, run as its own process with its own connection:

    python -m supportdesk.billing.tests.race_worker GO_FILE run VENDOR_ID DAY
    python -m supportdesk.billing.tests.race_worker GO_FILE issue DRAFT_ID [DRAFT_ID …]

``DATABASE_URL`` names the test database. The racer sets Django up, then waits for
``GO_FILE`` so that every racer starts at the same moment.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

NOW = datetime(2026, 2, 1, tzinfo=UTC)


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
    import django

    django.setup()
    from supportdesk.billing import runs, services
    from supportdesk.billing.models import Invoice
    from supportdesk.core.models import Vendor

    go, role, *args = argv
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.01)
    if role == "run":
        vendor = Vendor.objects.get(pk=int(args[0]))
        runs.billing_run(today=date.fromisoformat(args[1]), now=NOW, vendor=vendor)
    else:
        for pk in args:
            invoice = Invoice.objects.get(pk=int(pk))
            services.invoice_issue(invoice=invoice, issue_date=NOW.date(), now=NOW)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

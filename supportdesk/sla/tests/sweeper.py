"""One sweeper process for the concurrency test of test_django_sweep (S-4).

``python -m supportdesk.sla.tests.sweeper GO NOW``: set up Django (DATABASE_URL from the
environment), say it is ready (``GO.ready-<pid>``), wait for the file GO, run one sweep at
NOW in batches of one and print its counts as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import django


def main() -> None:
    go, now = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
    django.setup()
    from supportdesk.sla.services import sla_sweep

    go.with_name(f"{go.name}.ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal within 120 s")
        time.sleep(0.005)
    print(json.dumps(sla_sweep(now=now, batch=1)))


if __name__ == "__main__":
    main()

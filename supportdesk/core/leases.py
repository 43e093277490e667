from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from supportdesk.core.models import Lease


def lease_acquire(*, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder`; False while another holder's is unexpired.

    One conditional UPDATE decides, so two processes racing cannot both win.
    """
    expires = now + ttl
    with transaction.atomic():
        taken = (
            Lease.objects.filter(name=name)
            .filter(Q(holder=holder) | Q(expires_at__lte=now))
            .update(holder=holder, expires_at=expires)
        )
        if taken:
            return True
        if Lease.objects.filter(name=name).exists():
            return False
        try:
            with transaction.atomic():
                Lease.objects.create(name=name, holder=holder, expires_at=expires)
        except IntegrityError:
            return False
        return True


def lease_release(*, name: str, holder: str) -> None:
    Lease.objects.filter(name=name, holder=holder).delete()

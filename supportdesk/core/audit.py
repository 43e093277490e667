"""The one recorder of the vendor settings audit log (house rule 13)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from supportdesk.core.models import VendorEvent, VendorEventKind


def vendor_event_record(
    *, vendor_id: int, kind: VendorEventKind, actor_id: int | None, now: datetime, **data: Any
) -> VendorEvent:
    """Append one event; call it inside the transaction of the change it records."""
    email = ""
    if actor_id is not None:
        email = (
            get_user_model().objects.filter(pk=actor_id).values_list("email", flat=True).first()
            or ""
        )
    return VendorEvent.objects.create(
        vendor_id=vendor_id, kind=kind, actor_id=actor_id, actor_email=email, at=now, data=data
    )

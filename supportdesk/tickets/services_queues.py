"""Queues and their members, edited by the vendor's admins (issue 11.2)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from supportdesk.accounts.models import User
from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.models import Vendor, VendorEventKind
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.tickets.models import Queue


@transaction.atomic
def queue_save(
    *,
    vendor: Vendor,
    principal: Principal,
    now: datetime,
    name: str,
    email: str = "",
    is_default: bool = False,
    member_ids: Iterable[int] = (),
    queue: Queue | None = None,
) -> Queue:
    """Create a queue, or change `queue`: name, receiving address, default flag, members
    (active staff of the vendor). One default queue per vendor; the last one stays default."""
    require_staff_of(principal, vendor.pk)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins may change queues")
    if queue is not None and queue.vendor_id != vendor.pk:
        raise Forbidden("this queue belongs to another vendor")
    name = " ".join((name or "").split())[:100]
    if not name:
        raise InvalidInput("a queue needs a name")
    email = (email or "").strip().lower()
    if email and ("@" not in email or "." not in email.partition("@")[2]):
        raise InvalidInput(f"{email!r} is not an email address")
    same_name = Queue.objects.filter(vendor=vendor, name__iexact=name)
    if queue is not None:
        same_name = same_name.exclude(pk=queue.pk)
    if same_name.exists():
        raise Conflict(f"a queue named {name!r} exists", code="duplicate")
    ids = set(member_ids)
    members = list(User.objects.filter(pk__in=ids, vendor=vendor, is_staff=True, is_active=True))
    if len(members) != len(ids):
        raise InvalidInput("members must be active staff of this vendor")
    if queue is None:
        queue = Queue.objects.create(vendor=vendor, name=name, email=email)
        old: dict[str, object] = {}
    else:
        old = {"name": queue.name, "email": queue.email, "is_default": queue.is_default}
        queue.name, queue.email = name, email
        queue.save(update_fields=["name", "email"])
    others = Queue.objects.filter(vendor=vendor).exclude(pk=queue.pk)
    if is_default or not others.filter(is_default=True).exists():
        others.update(is_default=False)
        is_default = True
    if queue.is_default != is_default:
        queue.is_default = is_default
        queue.save(update_fields=["is_default"])
    before = set(queue.members.values_list("pk", flat=True))
    queue.members.set(members)
    vendor_event_record(
        vendor_id=vendor.pk, kind=VendorEventKind.QUEUE_SAVED, actor_id=principal.user_id,
        now=now, queue=queue.pk, old=old,
        new={"name": name, "email": email, "is_default": is_default},
        members_added=sorted(ids - before), members_removed=sorted(before - ids),
    )  # fmt: skip
    return queue

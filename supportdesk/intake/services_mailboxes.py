"""Writes of a vendor's IMAP mailboxes (issue 11.2): the password is stored sealed
(`core.crypto`), never logged, never put in an event or a page."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction

from supportdesk.core.crypto import reseal, seal
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.intake.models import ImapMailbox

HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
FIELDS = ("host", "port", "ssl", "starttls", "username", "folder", "move_to", "active")


@transaction.atomic
def mailbox_save(
    *,
    vendor: Vendor,
    now: datetime,
    host: str,
    username: str,
    password: str | None,
    port: int | None = None,
    ssl: bool = True,
    starttls: bool = False,
    folder: str = "INBOX",
    move_to: str = "",
    active: bool = True,
    mailbox: ImapMailbox | None = None,
) -> tuple[ImapMailbox, list[str]]:
    """Create a mailbox, or change `mailbox` (this vendor's; takes its row lock);
    `password=None` (or '') keeps the stored one. Returns the row and the changed fields."""
    host, username = host.strip().lower(), username.strip()
    folder, move_to = (folder or "").strip() or "INBOX", (move_to or "").strip()
    if not HOST_RE.match(host):
        raise InvalidInput(f"{host!r} is not a host name")
    if port is not None and not 1 <= port <= 65535:
        raise InvalidInput(f"port must be 1-65535, got {port}")
    if not username or len(username) > 254:
        raise InvalidInput("the mailbox needs a user name (at most 254 characters)")
    if len(folder) > 200 or len(move_to) > 200:
        raise InvalidInput("folder names are at most 200 characters")
    if ssl and starttls:
        raise InvalidInput("choose SSL or STARTTLS, not both")
    if password and len(password) > 500:
        raise InvalidInput("the password is longer than 500 characters")
    if mailbox is None:
        if not password:
            raise InvalidInput("a new mailbox needs its password")
        mailbox = ImapMailbox(vendor=vendor, created_at=now)
    else:
        if mailbox.vendor_id != vendor.pk:
            raise InvalidInput("the mailbox belongs to another vendor")
        mailbox = ImapMailbox.objects.select_for_update().get(pk=mailbox.pk)
    clash = ImapMailbox.objects.filter(
        vendor=vendor, host=host, username=username, folder=folder
    ).exclude(pk=mailbox.pk)
    if clash.exists():
        raise InvalidInput(f"{username}@{host}/{folder} is already polled", code="duplicate")
    values = {
        "host": host, "port": port, "ssl": ssl, "starttls": starttls, "username": username,
        "folder": folder, "move_to": move_to, "active": active,
    }  # fmt: skip
    changed = [k for k in FIELDS if getattr(mailbox, k) != values[k]]
    for key, value in values.items():
        setattr(mailbox, key, value)
    if password:
        mailbox.password = seal(password)
        changed.append("password")
    mailbox.updated_at = now
    mailbox.save()
    return mailbox, changed


def mailboxes_reseal() -> int:
    """Re-encrypt every stored mailbox password under the newest key (key rotation)."""
    count = 0
    with transaction.atomic():
        for row in ImapMailbox.objects.select_for_update().exclude(password=""):
            ImapMailbox.objects.filter(pk=row.pk).update(password=reseal(row.password))
            count += 1
    return count

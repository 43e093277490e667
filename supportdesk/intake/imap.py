"""`supportdesk fetchmail`: poll IMAP mailboxes (settings.IMAP_MAILBOXES) into intake.

Each fetched batch goes through `email_ingest_many` (per vendor: parsed first, stored in one
transaction, applied in one with a savepoint per message). A message is flagged \\Seen (or
moved to `move_to`) only after it is committed; if storing fails, it stays unseen and is
fetched again (T-5). Fetching uses BODY.PEEK[] so reading never marks a message seen by
itself.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from imapclient import IMAPClient

from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.intake.batch import email_ingest_many
from supportdesk.intake.selectors import vendor_for_raw

log = logging.getLogger(__name__)

BATCH = 50


def fetch_mailbox(config: dict[str, Any]) -> Counter[str]:
    """One pass over one mailbox; returns counts by intake state."""
    counts: Counter[str] = Counter()
    ssl = bool(config.get("ssl", True))
    port = int(config.get("port") or (993 if ssl else 143))
    user = str(config["user"])
    move_to = config.get("move_to") or ""
    with IMAPClient(config["host"], port=port, ssl=ssl, timeout=60) as client:
        if not ssl and config.get("starttls"):
            client.starttls()
        client.login(user, str(config.get("password", "")))
        client.select_folder(config.get("folder") or "INBOX")
        uids = client.search(["NOT", "DELETED"] if move_to else ["UNSEEN", "NOT", "DELETED"])
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            by_vendor: dict[int, tuple[Vendor, list[tuple[int, bytes]]]] = {}
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    continue
                try:
                    vendor = vendor_for_raw(
                        raw,
                        slug=config.get("vendor") or None,
                        envelope=[user] if "@" in user else [],
                    )
                except Exception:  # not stored: left unseen for the next pass
                    log.exception("fetchmail: %s uid %s not stored", user, uid)
                    counts["not_stored"] += 1
                    continue
                by_vendor.setdefault(vendor.pk, (vendor, []))[1].append((uid, raw))
            for vendor, items in by_vendor.values():
                stored = _ingest(items, vendor, user, counts)
                # committed: only now may the server forget them
                if stored and move_to:
                    client.move(stored, move_to)
                elif stored:
                    client.add_flags(stored, [b"\\Seen"])
        client.logout()
    return counts


def _ingest(
    items: list[tuple[int, bytes]], vendor: Vendor, user: str, counts: Counter[str]
) -> list[int]:
    """Store and apply one vendor's fetched messages as one batch; the uids stored. If the
    batch cannot be stored, each message is tried alone, so one that cannot be stored is
    left unseen without holding back the others."""
    try:
        results = email_ingest_many(
            [raw for _, raw in items], vendor=vendor, now=clock.now(), source="imap"
        )
        stored = [uid for uid, _ in items]
    except Exception:
        log.exception("fetchmail: %s: a batch not stored, trying one by one", user)
        results, stored = [], []
        for uid, raw in items:
            try:
                results += email_ingest_many([raw], vendor=vendor, now=clock.now(), source="imap")
                stored.append(uid)
            except Exception:  # not stored: left unseen for the next pass
                log.exception("fetchmail: %s uid %s not stored", user, uid)
                counts["not_stored"] += 1
    for result in results:
        counts[result.state] += 1
    return stored

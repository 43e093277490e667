"""`supportdesk fetchmail`: poll IMAP mailboxes (settings.IMAP_MAILBOXES) into intake.

A message is flagged \\Seen (or moved to `move_to`) only after `email_ingest` has committed it;
if storing fails, the message stays unseen and is fetched again (T-5). Fetching uses
BODY.PEEK[] so reading never marks a message seen by itself.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from imapclient import IMAPClient

from supportdesk.core import clock
from supportdesk.intake.selectors import vendor_for_raw
from supportdesk.intake.services import email_ingest

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
            for uid in batch:
                data = fetched.get(uid, {})
                raw = data.get(b"BODY[]")
                if raw is None:
                    continue
                try:
                    vendor = vendor_for_raw(
                        raw,
                        slug=config.get("vendor") or None,
                        envelope=[user] if "@" in user else [],
                    )
                    result = email_ingest(raw, vendor=vendor, now=clock.now(), source="imap")
                except Exception:  # not stored: left unseen for the next pass; go on with the rest
                    log.exception("fetchmail: %s uid %s not stored", user, uid)
                    counts["not_stored"] += 1
                    continue
                counts[result.state] += 1
                # committed: only now may the server forget it
                if move_to:
                    client.move([uid], move_to)
                else:
                    client.add_flags([uid], [b"\\Seen"])
        client.logout()
    return counts

"""The one canonical form of an email address, shared by contacts (stored) and intake (matched).

Pure: no Django. Contacts store addresses in this form and intake looks senders up in it, so
`Alice.Second@Acme.example` and `alice.second@acme.example` are the same sender (T-2).
"""

from __future__ import annotations

import functools


def normalise_domain(domain: str) -> str:
    """Lower-case, strip dots/brackets and encode internationalised domains as IDNA (ASCII)."""
    cleaned = domain.strip().strip("<>[]").strip().rstrip(".").lower()
    if not cleaned or cleaned.isascii():
        return cleaned
    labels = []
    for label in cleaned.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


@functools.lru_cache(maxsize=8192)  # intake sees the same few thousand senders again
def normalise_address(address: str) -> str:
    """Canonical form of an email address for matching: trimmed, no ``mailto:``/angle
    brackets, lower-cased, IDNA domain. Returns ``""`` for something without an ``@``.
    """
    cleaned = address.strip().strip("<>").strip()
    if cleaned.lower().startswith("mailto:"):
        cleaned = cleaned[7:].split("?", 1)[0]
    cleaned = cleaned.strip().strip("<>").strip().strip("'\"").strip()
    if "@" not in cleaned:
        return ""
    local, _, domain = cleaned.rpartition("@")
    local = local.strip().strip('"').strip()
    if not local:
        return ""
    return f"{local.lower()}@{normalise_domain(domain)}"

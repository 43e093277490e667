"""A contacts CSV with a known set of bad rows, for the import test and bench/import_contacts.py."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

HEADER = ["email", "name", "organization", "phone", "role"]
# Each bad row is refused for its own reason: no name, no address, a bad address, an unknown
# organisation, a phone number with letters.
_BAD = [
    lambda i, org: [f"person{i}@import.example", "", org, "", ""],
    lambda i, org: ["", f"Person {i}", org, "", ""],
    lambda i, org: [f"person{i}-at-import.example", f"Person {i}", org, "", ""],
    lambda i, org: [f"person{i}@import.example", f"Person {i}", "No Such Customer", "", ""],
    lambda i, org: [f"person{i}@import.example", f"Person {i}", org, "call reception", ""],
]


def write_contacts_csv(
    path: Path, *, rows: int, bad_every: int, organizations: Sequence[str]
) -> list[int]:
    """Write `rows` contacts, every `bad_every`-th one bad; return the bad rows' line numbers."""
    bad_lines = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            org = organizations[i % len(organizations)]
            if i % bad_every == 0:
                writer.writerow(_BAD[(i // bad_every) % len(_BAD)](i, org))
                bad_lines.append(i + 1)  # line 1 is the header
            else:
                phone = f"+1212555{i % 10000:04d}" if i % 3 == 0 else ""
                writer.writerow([f"person{i}@import.example", f"Person {i}", org, phone, ""])
    return bad_lines

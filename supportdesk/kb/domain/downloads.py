"""Who may download a release, and which bytes a Range header asks for (K-3, E-6, E-7).

Pure functions: no Django, the day passed in. The portal's Downloads page, the API's release
list and the download-link endpoint all take their answer from ``download_status``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Standing:
    """One of the organisation's contracts on the day asked about.

    ``state``: its effective state that day (an expired term has lapsed); ``gives_updates``:
    its plan switches software updates on; ``in_force``: active or past due, started, not
    ended."""

    reference: str
    state: str
    gives_updates: bool
    in_force: bool


@dataclass(frozen=True)
class DownloadStatus:
    """``code``: eligible, no_contract, contract_suspended, contract_lapsed,
    upgrade_sold_separately, version_unsupported, not_covered; ``reason``: human text."""

    ok: bool
    code: str
    reason: str


def download_status(
    *,
    label: str,
    standings: Sequence[Standing],
    version_supported: bool,
    version_explanation: str,
    eligible: bool,
    eligibility_code: str,
    eligibility_reason: str,
) -> DownloadStatus:
    """The one answer for a release: a contract with updates must be in force today; an
    upgrade sold separately is never included (E-7); the version must be inside the support
    window (E-6); and maintenance must have covered the days before it shipped (E-7).

    The first refusal in that order is the reason shown.
    """
    updating = [s for s in standings if s.gives_updates]
    if not any(s.in_force for s in updating):
        for state, code in (("suspended", "contract_suspended"), ("lapsed", "contract_lapsed")):
            hit = next((s for s in updating if s.state == state), None)
            if hit is not None:
                return DownloadStatus(
                    False,
                    code,
                    f"{label}: contract {hit.reference} is {state}; downloads need a contract "
                    "with software updates in force",
                )
        return DownloadStatus(
            False, "no_contract", f"{label}: no contract with software updates is in force"
        )
    if eligibility_code == "upgrade_sold_separately":
        return DownloadStatus(False, eligibility_code, eligibility_reason)
    if not version_supported:
        return DownloadStatus(
            False,
            "version_unsupported",
            f"{label}: version outside the support window (E-6): {version_explanation}",
        )
    if not eligible:
        return DownloadStatus(False, eligibility_code or "not_covered", eligibility_reason)
    return DownloadStatus(True, "eligible", eligibility_reason)


# --- HTTP range requests (RFC 9110 section 14) ------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    """The range lies wholly past the end of the file: answer 416."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks for within a ``size``-byte file.

    None means "send the whole file": no header, a malformed one, or several ranges (which a
    server may answer with the whole representation). ``bytes=-N`` is the last N bytes; an end
    past the file is clipped. Raises ``Unsatisfiable`` when the first byte is past the end.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable(header)
    return ByteRange(start, min(end, size - 1))

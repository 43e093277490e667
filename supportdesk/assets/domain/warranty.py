"""Warranty and coverage of a device (H-1, H-2): pure rules, ``today`` passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from supportdesk.billing.domain.periods import add_months

# Contract states in which the contract still covers its devices (a past-due contract is
# still in force until it is suspended, B-4).
COVERING_STATES = frozenset({"active", "past_due"})


def warranty_end(purchased_on: date | None, warranty_months: int) -> date | None:
    """The exclusive end of the manufacturer's warranty: purchase date + the model's months
    (clamped to the month's end, like every period here). Unknown purchase → unknown end."""
    if purchased_on is None:
        return None
    if isinstance(warranty_months, bool) or not isinstance(warranty_months, int):
        raise TypeError(f"warranty months must be an int, got {warranty_months!r}")
    if warranty_months < 0:
        raise ValueError("warranty months cannot be negative")
    return add_months(purchased_on, warranty_months)


def in_warranty(warranty_ends_on: date | None, today: date) -> bool:
    return warranty_ends_on is not None and today < warranty_ends_on


@dataclass(frozen=True)
class ContractTerm:
    """What coverage needs of the covering contract."""

    state: str
    start: date
    end: date  # exclusive


def contract_covers(term: ContractTerm | None, today: date) -> bool:
    return term is not None and term.state in COVERING_STATES and term.start <= today < term.end


@dataclass(frozen=True)
class Standing:
    """What the ticket page and the RMA rules say about a device on a day."""

    in_warranty: bool
    covered: bool
    warranty_ends_on: date | None

    @property
    def exchange_allowed(self) -> bool:
        """Advance exchange (H-2): only for an in-warranty or contract-covered unit."""
        return self.in_warranty or self.covered

    def exchange_refusal(self) -> str:
        if self.warranty_ends_on is None:
            why = "its warranty end is unknown (no purchase date)"
        else:
            why = f"its warranty ended on {self.warranty_ends_on.isoformat()}"
        return (
            f"advance exchange needs a unit in warranty or covered by a contract: {why} "
            "and no contract in force covers it; use return to factory"
        )


def standing(warranty_ends_on: date | None, term: ContractTerm | None, today: date) -> Standing:
    return Standing(
        in_warranty=in_warranty(warranty_ends_on, today),
        covered=contract_covers(term, today),
        warranty_ends_on=warranty_ends_on,
    )

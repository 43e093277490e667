"""Pure rules of downloads (K-3): the Range header and the order of refusal reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.kb.domain.downloads import (
    ByteRange,
    Standing,
    Unsatisfiable,
    download_status,
    parse_range,
)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, ByteRange(0, 0)),
        ("bytes=2-", 10, ByteRange(2, 9)),
        ("bytes=-3", 10, ByteRange(7, 9)),
        ("bytes=-30", 10, ByteRange(0, 9)),
        ("bytes=5-100", 10, ByteRange(5, 9)),
        ("bytes=5-4", 10, None),
        ("bytes=0-1,3-4", 10, None),
        ("items=0-1", 10, None),
        ("bytes=-", 10, None),
    ],
)
def test_parse_range_K3(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_ranges_K3(header, size):
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


@given(
    size=st.integers(1, 10**12),
    first=st.one_of(st.none(), st.integers(0, 10**13)),
    last=st.one_of(st.none(), st.integers(0, 10**13)),
)
def test_a_parsed_range_always_lies_inside_the_file_K3(size, first, last):
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    try:
        found = parse_range(header, size)
    except Unsatisfiable:
        assert (first is not None and first >= size) or (first is None and last == 0)
        return
    if found is not None:
        assert 0 <= found.start <= found.end < size and found.length >= 1


def _status(standings, *, supported=True, code="eligible", ok=True):
    return download_status(
        label="P 1.0", standings=standings, version_supported=supported,
        version_explanation="P 1.0 is older", eligible=ok, eligibility_code=code,
        eligibility_reason=f"because {code}",
    )  # fmt: skip


ACTIVE = Standing("C-1", "active", True, True)


def test_refusals_come_in_a_fixed_order_K3():
    assert _status([ACTIVE]).code == "eligible"
    assert _status([]).code == "no_contract"
    assert _status([Standing("C-1", "active", False, True)]).code == "no_contract"  # hourly
    suspended = Standing("C-2", "suspended", True, False)
    refused = _status([suspended], supported=False, code="upgrade_sold_separately", ok=False)
    assert refused.code == "contract_suspended" and "C-2 is suspended" in refused.reason
    assert _status([Standing("C-3", "lapsed", True, False)]).code == "contract_lapsed"
    both = _status([ACTIVE], supported=False, code="upgrade_sold_separately", ok=False)
    assert both.code == "upgrade_sold_separately"
    assert _status([ACTIVE], supported=False).code == "version_unsupported"
    assert _status([ACTIVE], code="not_covered", ok=False).code == "not_covered"

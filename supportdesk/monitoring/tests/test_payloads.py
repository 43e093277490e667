"""Monitoring payloads read by shape (N-1): Alertmanager v4, Grafana alerting, generic JSON.
Pure: no Django."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.monitoring.domain.payloads import (
    NotJsonError,
    PayloadError,
    Severity,
    Shape,
    parse_payload,
    severity_of,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_alertmanager_v4_webhook_is_read_with_customer_label_N1() -> None:
    shape, events = parse_payload((FIXTURES / "alertmanager_v4.json").read_bytes())
    assert shape is Shape.ALERTMANAGER
    [event] = events
    assert event.firing and event.severity is Severity.CRITICAL
    assert event.fingerprint == "5f2c6a1e9b0d4c21"
    assert event.customer == "Acme" and event.asset_serial == "PBX-0001"
    assert event.summary == "PBX unreachable"
    assert event.details == "pbx1 has not answered for 5 minutes"
    # Go's nanoseconds are cut to microseconds, not refused.
    assert event.occurred_at == datetime(2026, 1, 5, 14, 58, 3, 157076, tzinfo=UTC)


def test_alertmanager_resolution_takes_its_end_time_N1() -> None:
    body = fixture("alertmanager_v4.json")
    body["status"] = "resolved"
    body["alerts"][0]["status"] = "resolved"
    body["alerts"][0]["endsAt"] = "2026-01-05T15:10:00Z"
    _, [event] = parse_payload(raw(body))
    assert not event.firing
    assert event.occurred_at == datetime(2026, 1, 5, 15, 10, tzinfo=UTC)


def test_grafana_alerting_webhook_is_read_as_two_events_N1() -> None:
    shape, events = parse_payload((FIXTURES / "grafana.json").read_bytes())
    assert shape is Shape.GRAFANA
    assert [e.fingerprint for e in events] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]
    assert {e.customer for e in events} == {"Acme"}
    assert events[0].summary == "This alert was triggered for zone us-1"
    assert events[0].occurred_at == datetime(
        2021, 10, 12, 9, 51, 3, 157076, tzinfo=timezone(timedelta(hours=2))
    )
    assert all(e.severity is Severity.WARNING for e in events)


def test_generic_event_with_structured_details_N1() -> None:
    shape, [event] = parse_payload((FIXTURES / "generic.json").read_bytes())
    assert shape is Shape.GENERIC
    assert event.fingerprint == "acme-trunk-2"
    assert event.severity is Severity.ERROR
    assert json.loads(event.details) == {"attempts": 3, "trunk": "sip-2"}
    assert event.asset_serial == "PBX-0002"


def test_generic_event_without_dedup_key_gets_a_stable_fingerprint_N1() -> None:
    body = {"summary": "Disk 90% full", "customer": "7", "labels": {"host": "a"}}
    _, [first] = parse_payload(raw(body))
    _, [again] = parse_payload(raw(dict(reversed(list(body.items())))))
    _, [other] = parse_payload(raw({**body, "customer": "8"}))
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert first.firing  # status defaults to firing


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"42", "JSON object"),
        (raw({"hello": "world"}), "unknown payload shape"),
        (raw({"alerts": [{}], "version": "3"}), "not a payload this intake knows"),
        (raw({"summary": "x", "status": "exploded"}), "status must be"),
        (raw({"summary": "x", "occurred_at": "yesterday"}), "RFC 3339"),
        (raw({"summary": "x", "occurred_at": "2026-01-05T10:00:00"}), "UTC offset"),
        (raw({"summary": "x", "surprise": 1}), "unknown fields: surprise"),
        (raw({"summary": ""}), "summary is required"),
        (raw([]), "empty"),
        (raw({"summary": "x", "labels": ["a"]}), "labels must be an object"),
    ],
)
def test_malformed_payloads_say_what_is_wrong_N1(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_payload(body)


def test_a_body_that_is_not_json_is_told_apart_N1() -> None:
    with pytest.raises(NotJsonError):
        parse_payload(b"\xff\xfe")


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("critical", Severity.CRITICAL),
        ("P1", Severity.CRITICAL),
        ("major", Severity.ERROR),
        ("warn", Severity.WARNING),
        ("info", Severity.INFO),
        ("", Severity.WARNING),
        ("unheard-of", Severity.WARNING),
    ],
)
def test_severity_words_of_the_common_tools_N1(word: str, severity: Severity) -> None:
    assert severity_of(word) is severity


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "summary",
        "status",
        "alerts",
        "version",
        "groupKey",
        "orgId",
        "labels",
        "occurred_at",
        "dedup_key",
        "customer",
        "severity",
        "details",
    ]
)


@given(st.dictionaries(KEYS, JSON, max_size=8) | JSON)
def test_any_json_is_read_or_refused_with_a_message_never_a_crash_N1(body: object) -> None:
    try:
        _, events = parse_payload(raw(body))
    except PayloadError as exc:
        assert str(exc)
    else:
        assert events
        for event in events:
            assert event.summary and event.fingerprint
            assert event.occurred_at is None or event.occurred_at.tzinfo is not None

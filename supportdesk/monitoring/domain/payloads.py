"""Monitoring payloads, recognised by shape and read into one event form (N-1).

Three shapes are accepted:
- Prometheus Alertmanager's webhook, version 4 (`version`, `groupKey`, `alerts[]`);
- Grafana alerting's webhook (Alertmanager-like, plus `orgId`/`title`/`state`);
- a generic JSON event close to PagerDuty Events v2 (one object, or a list of them).

The customer travels as the `customer` label (Alertmanager, Grafana) or field (generic); an
asset as `asset_serial`. Pure: no Django, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class PayloadError(ValueError):
    """The body is not a monitoring payload this intake understands; the message says why."""


class NotJsonError(PayloadError):
    """The body does not even parse as JSON."""


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFO: 3}

_SEVERITY_WORDS = {
    Severity.CRITICAL: {
        "critical",
        "crit",
        "fatal",
        "emergency",
        "emerg",
        "alert",
        "disaster",
        "page",
        "p1",
        "sev1",
        "s1",
    },
    Severity.ERROR: {"error", "err", "major", "high", "p2", "sev2", "s2"},
    Severity.WARNING: {"warning", "warn", "minor", "medium", "average", "p3", "sev3", "s3"},
    Severity.INFO: {
        "info",
        "informational",
        "information",
        "notice",
        "low",
        "none",
        "ok",
        "debug",
        "p4",
        "p5",
        "sev4",
        "s4",
    },
}


def severity_of(value: object) -> Severity:
    """A severity word as the common tools spell it; unknown or missing reads as warning."""
    word = str(value or "").strip().lower()
    for severity, words in _SEVERITY_WORDS.items():
        if word in words:
            return severity
    return Severity.WARNING


class Shape(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    GENERIC = "generic"


@dataclass(frozen=True)
class Event:
    """One alert state report, whatever tool sent it."""

    shape: Shape
    fingerprint: str
    firing: bool
    severity: Severity
    summary: str
    details: str
    labels: Mapping[str, str] = field(default_factory=dict)
    customer: str = ""
    asset_serial: str = ""
    site: str = ""
    source: str = ""
    occurred_at: datetime | None = None
    link: str = ""


SUMMARY_MAX = 300
DETAILS_MAX = 4000
LABELS_MAX = 64


def _text(value: object, limit: int) -> str:
    text = "" if value is None else str(value)
    return text.replace("\x00", "").strip()[:limit]


def _labels(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object of label names to values")
    if len(value) > LABELS_MAX:
        raise PayloadError(f"{where} has more than {LABELS_MAX} labels")
    return {_text(k, 100): _text(v, 500) for k, v in value.items() if _text(k, 100)}


def _instant(value: object, where: str) -> datetime | None:
    """An RFC 3339 instant; Alertmanager's zero time (`0001-01-01T00:00:00Z`) means none."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be an RFC 3339 time string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Go prints nanoseconds; Python reads at most microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PayloadError(f"{where} is not an RFC 3339 time: {value!r}") from exc
    if instant.tzinfo is None:
        raise PayloadError(f"{where} needs a UTC offset: {value!r}")
    if instant.year <= 1:
        return None
    return instant


def fingerprint_of(*parts: object) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def detect_shape(body: Mapping[str, Any] | list[Any]) -> Shape:
    if isinstance(body, list):
        return Shape.GENERIC
    if isinstance(body.get("alerts"), list):
        if "orgId" in body or "title" in body or "state" in body:
            return Shape.GRAFANA
        if str(body.get("version", "")) == "4" and "groupKey" in body:
            return Shape.ALERTMANAGER
        raise PayloadError(
            'an `alerts` list without Alertmanager\'s `version: "4"` and `groupKey`, or '
            "Grafana's `orgId`/`title`: not a payload this intake knows"
        )
    if "summary" in body or "dedup_key" in body:
        return Shape.GENERIC
    raise PayloadError(
        "unknown payload shape: expected an Alertmanager (version 4) or Grafana alerting "
        "webhook, or a generic event with `summary` and `status`"
    )


def _alertmanager_events(body: Mapping[str, Any], shape: Shape) -> list[Event]:
    common = _labels(body.get("commonLabels"), "commonLabels")
    alerts = body["alerts"]
    if not alerts:
        raise PayloadError("`alerts` is empty")
    events = []
    for index, alert in enumerate(alerts):
        where = f"alerts[{index}]"
        if not isinstance(alert, Mapping):
            raise PayloadError(f"{where} must be an object")
        labels = {**common, **_labels(alert.get("labels"), f"{where}.labels")}
        annotations = _labels(alert.get("annotations"), f"{where}.annotations")
        status = str(alert.get("status") or body.get("status") or "").lower()
        if status not in ("firing", "resolved"):
            raise PayloadError(f"{where}.status must be 'firing' or 'resolved'")
        firing = status == "firing"
        starts = _instant(alert.get("startsAt"), f"{where}.startsAt")
        ends = _instant(alert.get("endsAt"), f"{where}.endsAt")
        summary = (
            annotations.get("summary")
            or labels.get("alertname")
            or _text(body.get("title"), SUMMARY_MAX)
            or "alert"
        )
        events.append(
            Event(
                shape=shape,
                fingerprint=_text(alert.get("fingerprint"), 64)
                or fingerprint_of(sorted(labels.items())),
                firing=firing,
                severity=severity_of(labels.get("severity")),
                summary=_text(summary, SUMMARY_MAX),
                details=_text(
                    annotations.get("description") or annotations.get("message", ""), DETAILS_MAX
                ),
                labels=labels,
                customer=labels.get("customer", ""),
                asset_serial=labels.get("asset_serial", "") or labels.get("serial", ""),
                site=labels.get("site", ""),
                source=_text(body.get("receiver") or shape.value, 100),
                occurred_at=starts if firing else (ends or starts),
                link=_text(alert.get("generatorURL") or alert.get("panelURL"), 500),
            )
        )
    return events


_GENERIC_KEYS = {
    "source",
    "customer",
    "asset_serial",
    "labels",
    "severity",
    "summary",
    "details",
    "status",
    "dedup_key",
    "occurred_at",
    "site",
    "link",
}


def _generic_event(item: object, where: str) -> Event:
    if not isinstance(item, Mapping):
        raise PayloadError(f"{where} must be an object")
    unknown = sorted(set(item) - _GENERIC_KEYS)
    if unknown:
        raise PayloadError(f"{where} has unknown fields: {', '.join(unknown)}")
    summary = _text(item.get("summary"), SUMMARY_MAX)
    if not summary:
        raise PayloadError(f"{where}.summary is required")
    status = str(item.get("status") or "firing").lower()
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved'")
    labels = _labels(item.get("labels"), f"{where}.labels")
    details = item.get("details", "")
    if isinstance(details, Mapping | list):
        details = json.dumps(details, ensure_ascii=False, sort_keys=True)
    customer = _text(item.get("customer"), 100) or labels.get("customer", "")
    asset = _text(item.get("asset_serial"), 100) or labels.get("asset_serial", "")
    source = _text(item.get("source"), 100)
    return Event(
        shape=Shape.GENERIC,
        fingerprint=_text(item.get("dedup_key"), 200)
        or fingerprint_of(source, customer, asset, summary, sorted(labels.items())),
        firing=status == "firing",
        severity=severity_of(item.get("severity") or labels.get("severity")),
        summary=summary,
        details=_text(details, DETAILS_MAX),
        labels=labels,
        customer=customer,
        asset_serial=asset,
        site=_text(item.get("site"), 100) or labels.get("site", ""),
        source=source,
        occurred_at=_instant(item.get("occurred_at"), f"{where}.occurred_at"),
        link=_text(item.get("link"), 500),
    )


MAX_EVENTS = 500


def parse_payload(raw: bytes) -> tuple[Shape, list[Event]]:
    """Read a webhook body; `PayloadError` says what is wrong with it."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotJsonError(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, Mapping | list):
        raise PayloadError("the body must be a JSON object (or a list of generic events)")
    shape = detect_shape(body)
    if shape is Shape.GENERIC:
        items = body if isinstance(body, list) else [body]
        if not items:
            raise PayloadError("the list of events is empty")
        events = [_generic_event(item, f"events[{i}]") for i, item in enumerate(items)]
    else:
        assert isinstance(body, Mapping)
        events = _alertmanager_events(body, shape)
    if len(events) > MAX_EVENTS:
        raise PayloadError(f"more than {MAX_EVENTS} events in one request")
    return shape, events

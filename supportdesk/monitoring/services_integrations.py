"""Monitoring integrations (N-1): the secret URL an alert source posts to, how its events find
a customer (label rules), and who hears of them (severity sets and notification rules)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from supportdesk.accounts.services import token_digest
from supportdesk.contracts.models import Plan
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization
from supportdesk.monitoring.domain.alerts import NotificationRule, Policy, Route
from supportdesk.monitoring.domain.payloads import Severity
from supportdesk.monitoring.models import Integration

MAX_NOTIFICATION_RULES = 50


def _require_admin(principal: Principal, vendor_id: int) -> None:
    require_staff_of(principal, vendor_id)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins manage monitoring integrations")


def _severities(values: Iterable[str] | None, what: str) -> list[str]:
    if values is None:
        return []
    allowed = {s.value for s in Severity}
    chosen = sorted({str(v).strip().lower() for v in values})
    wrong = [v for v in chosen if v not in allowed]
    if wrong:
        raise InvalidInput(f"{what}: unknown severity {', '.join(wrong)} (use {sorted(allowed)})")
    return chosen


def _rules(rules: Any, vendor_id: int) -> list[dict[str, Any]]:
    if rules in (None, ""):
        return []
    if not isinstance(rules, list):
        raise InvalidInput("label_rules must be a list of {label, value, organization}")
    clean = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping) or set(rule) != {"label", "value", "organization"}:
            raise InvalidInput(f"label_rules[{index}] needs exactly label, value, organization")
        org_id = rule["organization"]
        if (
            not isinstance(org_id, int)
            or isinstance(org_id, bool)
            or not 0 < org_id < 2**63
            or not Organization.objects.filter(pk=org_id, vendor_id=vendor_id).exists()
        ):
            raise InvalidInput(f"label_rules[{index}]: no such organisation {org_id!r}")
        label, value = str(rule["label"]).strip(), str(rule["value"]).strip()
        if not label or not value:
            raise InvalidInput(f"label_rules[{index}]: label and value must not be empty")
        clean.append({"label": label[:100], "value": value[:500], "organization": org_id})
    return clean


def _notification_rules(rules: Any, vendor_id: int) -> list[dict[str, Any]]:
    """`[{"route": "mail"|"digest"|"none", "severities": [...], "labels": {name: value},
    "plans": [plan slug, ...]}, ...]`, tried in order; a condition left out holds for any alert."""
    if rules in (None, ""):
        return []
    if not isinstance(rules, list):
        raise InvalidInput("notification_rules must be a list of rules")
    if len(rules) > MAX_NOTIFICATION_RULES:
        raise InvalidInput(f"at most {MAX_NOTIFICATION_RULES} notification rules")
    known_plans = set(Plan.objects.filter(vendor_id=vendor_id).values_list("slug", flat=True))
    routes = {r.value for r in Route}
    clean = []
    for index, rule in enumerate(rules):
        where = f"notification_rules[{index}]"
        if not isinstance(rule, Mapping) or not set(rule) <= {
            "route",
            "severities",
            "labels",
            "plans",
        }:
            raise InvalidInput(f"{where}: a rule has route and optional severities, labels, plans")
        route = str(rule.get("route", "")).strip().lower()
        if route not in routes:
            raise InvalidInput(f"{where}: route must be one of {sorted(routes)}")
        labels = rule.get("labels") or {}
        if not isinstance(labels, Mapping) or len(labels) > 20:
            raise InvalidInput(f"{where}: labels must be an object of at most 20 name: value")
        clean_labels = {str(k).strip()[:100]: str(v).strip()[:500] for k, v in labels.items()}
        if any(not name for name in clean_labels):
            raise InvalidInput(f"{where}: a label name must not be empty")
        plans = rule.get("plans") or []
        if not isinstance(plans, list):
            raise InvalidInput(f"{where}: plans must be a list of plan slugs")
        unknown = sorted({str(p) for p in plans} - known_plans)
        if unknown:
            raise InvalidInput(f"{where}: no such plan {', '.join(unknown)}")
        clean.append(
            {
                "route": route,
                "severities": _severities(rule.get("severities") or [], f"{where}.severities"),
                "labels": clean_labels,
                "plans": sorted({str(p) for p in plans}),
            }
        )
    return clean


@transaction.atomic
def integration_create(
    *,
    principal: Principal | None,
    vendor: Vendor,
    name: str,
    now: datetime,
    signing_secret: str = "",
    label_rules: Any = None,
    notification_rules: Any = None,
    notify_severities: Iterable[str] | None = None,
    digest_severities: Iterable[str] | None = None,
    outage_severities: Iterable[str] | None = None,
    outage_assets: int = 0,
    group_wait_seconds: int = 30,
) -> tuple[Integration, str]:
    """A new integration and its secret token (returned once; only its digest is kept).
    `principal` None: set up by supportdesk itself (the demo loader)."""
    if principal is not None:
        _require_admin(principal, vendor.pk)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name is required (at most 100 characters)")
    if Integration.objects.filter(vendor=vendor, name=name).exists():
        raise InvalidInput(f"an integration named {name!r} exists already", code="duplicate")
    if not 0 <= outage_assets <= 10_000 or not 0 <= group_wait_seconds <= 86_400:
        raise InvalidInput("outage_assets 0–10000 and group_wait_seconds 0–86400")
    token = secrets.token_urlsafe(32)
    integration = Integration.objects.create(
        vendor=vendor,
        name=name,
        token_digest=token_digest(token),
        token_prefix=token[:8],
        signing_secret=(signing_secret or "").strip()[:200],
        label_rules=_rules(label_rules, vendor.pk),
        notification_rules=_notification_rules(notification_rules, vendor.pk),
        notify_severities=_severities(notify_severities, "notify_severities")
        if notify_severities is not None
        else ["critical", "error", "warning"],
        digest_severities=_severities(digest_severities, "digest_severities")
        if digest_severities is not None
        else ["info"],
        outage_severities=_severities(outage_severities, "outage_severities")
        if outage_severities is not None
        else ["critical"],
        outage_assets=outage_assets,
        group_wait_seconds=group_wait_seconds,
        created_at=now,
    )
    return integration, token


@transaction.atomic
def integration_update(
    *,
    principal: Principal,
    integration_id: int,
    changes: Mapping[str, Any],
) -> Integration:
    """Change an integration's routing: label rules, notification rules, severity sets, outage
    threshold, grouping wait, or switch it off. Only the keys given change. Locks the row."""
    integration = Integration.objects.select_for_update().filter(pk=integration_id).first()
    if (
        integration is None
        or principal.is_contact
        or (not principal.is_superuser and integration.vendor_id != principal.vendor_id)
    ):
        raise NotFound("no such monitoring integration")
    _require_admin(principal, integration.vendor_id)
    vendor_id = integration.vendor_id
    unknown = set(changes) - {
        "label_rules",
        "notification_rules",
        "notify_severities",
        "digest_severities",
        "outage_severities",
        "outage_assets",
        "group_wait_seconds",
        "active",
    }
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    if "label_rules" in changes:
        integration.label_rules = _rules(changes["label_rules"], vendor_id)
    if "notification_rules" in changes:
        integration.notification_rules = _notification_rules(
            changes["notification_rules"], vendor_id
        )
    for name in ("notify_severities", "digest_severities", "outage_severities"):
        if name in changes:
            setattr(integration, name, _severities(changes[name] or [], name))
    if "outage_assets" in changes:
        integration.outage_assets = _bounded(changes["outage_assets"], "outage_assets", 10_000)
    if "group_wait_seconds" in changes:
        integration.group_wait_seconds = _bounded(
            changes["group_wait_seconds"], "group_wait_seconds", 86_400
        )
    if "active" in changes:
        integration.active = bool(changes["active"])
    integration.save()
    return integration


def _bounded(value: Any, what: str, most: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise InvalidInput(f"{what} must be a whole number from 0 to {most}")
    return value


def integration_for_token(token: str) -> Integration:
    """The active integration of a webhook token, with only what the webhook reads of it."""
    # One fixed statement on every webhook request: written out, it skips the ORM's building
    # and compiling of the query, which was a third of the request's CPU (issue 14 bench).
    found = list(Integration.objects.raw(_BY_TOKEN_SQL, [token_digest(token or ""), True]))
    if not found:
        raise NotFound("no such monitoring integration")
    return found[0]


_BY_TOKEN_SQL = (
    f"SELECT id, vendor_id, signing_secret FROM {Integration._meta.db_table}"  # noqa: S608
    " WHERE token_digest = %s AND active = %s"
)


def signature_valid(integration: Integration, body: bytes, header: str) -> bool:
    """`X-Supportdesk-Signature: sha256=<hex HMAC of the body>`, when the integration has a key."""
    if not integration.signing_secret:
        return True
    expected = (
        "sha256=" + hmac.new(integration.signing_secret.encode(), body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, (header or "").strip())


def policy_of(integration: Integration) -> Policy:
    return Policy(
        notify=frozenset(Severity(s) for s in integration.notify_severities),
        digest=frozenset(Severity(s) for s in integration.digest_severities),
        outage=frozenset(Severity(s) for s in integration.outage_severities),
        outage_assets=integration.outage_assets,
        rules=tuple(
            NotificationRule(
                route=Route(rule["route"]),
                severities=frozenset(Severity(s) for s in rule["severities"]),
                labels=tuple(sorted(rule["labels"].items())),
                plans=frozenset(rule["plans"]),
            )
            for rule in integration.notification_rules
        ),
    )

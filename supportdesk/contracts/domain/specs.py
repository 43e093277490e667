"""Plans and inventories as JSON-safe specs (what the database stores) and back.

``plan_to_spec``/``plan_from_spec`` round-trip ``PlanRules`` through plain JSON (Decimals as
strings), so a plan row can hold its rules as data and a contract can snapshot them (house
rule 9). ``inventory_to_json`` turns a parsed ``Inventory`` (JSON or CSV import) into the JSON
shape ``parse_inventory_json`` reads. Bad specs raise ``EntitlementInputError`` naming the field.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .caps import Cap, CountingRule
from .counting import Inventory
from .errors import EntitlementInputError
from .plans import PlanRules
from .vocabulary import Category, coerce_enum

RULE_KEYS = (
    "included_categories",
    "out_of_scope_categories",
    "caps",
    "version_window",
    "api_base_only",
    "features",
    "not_included_advice",
    "release_rule",
    "release_window_days",
    "addon_features",
)
IDENTITY_KEYS = ("plan_id", "kind", "name")
CAP_KEYS = ("name", "label", "unit", "limit", "counts", "period", "grants", "exhausted_advice")


def _sorted(values: object) -> list[str]:
    return sorted(str(v) for v in values)  # type: ignore[attr-defined]


def cap_to_spec(cap: Cap) -> dict[str, Any]:
    rule = cap.counts
    return {
        "name": cap.name,
        "label": cap.label,
        "unit": cap.unit.value,
        "limit": str(cap.limit),
        "counts": {
            "source": rule.source.value,
            "channels": None if rule.channels is None else _sorted(rule.channels),
            "categories": None if rule.categories is None else _sorted(rule.categories),
        },
        "period": cap.period.value,
        "grants": cap.grants,
        "exhausted_advice": cap.exhausted_advice,
    }


def plan_to_spec(plan: PlanRules, *, identity: bool = True) -> dict[str, Any]:
    """The plan as JSON-safe data; ``identity=False`` leaves out plan_id, kind and name."""
    spec: dict[str, Any] = {
        "included_categories": _sorted(plan.included_categories),
        "out_of_scope_categories": _sorted(plan.out_of_scope_categories),
        "caps": [cap_to_spec(cap) for cap in plan.caps],
        "version_window": plan.version_window,
        "api_base_only": plan.api_base_only,
        "features": _sorted(plan.features),
        "not_included_advice": {str(k): v for k, v in sorted(plan.not_included_advice.items())},
        "release_rule": plan.release_rule.value,
        "release_window_days": plan.release_window_days,
        "addon_features": _sorted(plan.addon_features),
    }
    if identity:
        spec = {"plan_id": plan.plan_id, "kind": plan.kind.value, "name": plan.name, **spec}
    return spec


def _only(obj: Mapping[str, Any], allowed: tuple[str, ...], *, where: str) -> None:
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise EntitlementInputError(
            f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )


def _list(value: object, *, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise EntitlementInputError(f"{where}: expected a list, got {value!r}")
    return value


def _limit(value: object, *, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise EntitlementInputError(
            f"{where}: expected a whole number or a decimal string such as '4.5', got {value!r}"
        )
    try:
        return Decimal(value)
    except InvalidOperation:
        raise EntitlementInputError(f"{where}: {value!r} is not a number") from None


def cap_from_spec(spec: object, *, where: str = "cap") -> Cap:
    if not isinstance(spec, dict):
        raise EntitlementInputError(f"{where}: expected an object, got {spec!r}")
    _only(spec, CAP_KEYS, where=where)
    counts = spec.get("counts")
    if not isinstance(counts, dict):
        raise EntitlementInputError(f"{where}.counts: expected an object, got {counts!r}")
    _only(counts, ("source", "channels", "categories"), where=f"{where}.counts")
    channels = counts.get("channels")
    categories = counts.get("categories")
    rule = CountingRule(
        source=counts.get("source"),  # type: ignore[arg-type]
        channels=None
        if channels is None
        else frozenset(_list(channels, where=f"{where}.counts.channels")),
        categories=None
        if categories is None
        else frozenset(_list(categories, where=f"{where}.counts.categories")),
    )
    name = spec.get("name")
    if not isinstance(name, str):
        raise EntitlementInputError(f"{where}.name: expected text, got {name!r}")
    return Cap(
        name=name,
        label=str(spec.get("label") or name),
        unit=spec.get("unit"),  # type: ignore[arg-type]
        limit=_limit(spec.get("limit"), where=f"{where}.limit"),
        counts=rule,
        period=spec.get("period", "contract_year"),
        grants=bool(spec.get("grants", False)),
        exhausted_advice=str(spec.get("exhausted_advice") or ""),
    )


@functools.lru_cache(maxsize=1024)
def plan_from_text(text: str) -> PlanRules:
    """``plan_from_spec`` of a spec as JSON text (a contract's snapshot as stored), built
    once per distinct text: the contracts of one plan share it, and building it was a tenth
    of deciding a new ticket's entitlement (issue 16.2). Rules are immutable, so sharing
    them is safe; a spec that is wrong raises every time."""
    return plan_from_spec(json.loads(text))


def plan_from_spec(spec: object) -> PlanRules:
    """Build ``PlanRules`` from a spec with plan_id, kind and name plus the rule fields."""
    if not isinstance(spec, dict):
        raise EntitlementInputError(f"plan: expected an object, got {spec!r}")
    _only(spec, IDENTITY_KEYS + RULE_KEYS, where="plan")
    for key in IDENTITY_KEYS:
        if not isinstance(spec.get(key), str):
            raise EntitlementInputError(f"plan.{key}: expected text, got {spec.get(key)!r}")
    caps = tuple(
        cap_from_spec(c, where=f"caps[{i}]")
        for i, c in enumerate(_list(spec.get("caps", []), where="caps"))
    )
    window = spec.get("version_window", 1)
    if isinstance(window, bool) or not isinstance(window, int):
        raise EntitlementInputError(f"version_window: expected a whole number, got {window!r}")
    advice = spec.get("not_included_advice", {})
    if not isinstance(advice, dict):
        raise EntitlementInputError(f"not_included_advice: expected an object, got {advice!r}")
    optional: dict[str, Any] = {}
    for key in ("release_rule", "release_window_days"):  # older snapshots have neither
        if key in spec:
            optional[key] = spec[key]
    if "addon_features" in spec:
        optional["addon_features"] = frozenset(
            _list(spec["addon_features"], where="addon_features")
        )
    if "out_of_scope_categories" in spec:
        optional["out_of_scope_categories"] = frozenset(
            _list(spec["out_of_scope_categories"], where="out_of_scope_categories")
        )
    return PlanRules(
        plan_id=spec["plan_id"],
        kind=spec["kind"],
        name=spec["name"],
        included_categories=frozenset(
            _list(spec.get("included_categories", []), where="included_categories")
        ),
        caps=caps,
        version_window=window,
        api_base_only=bool(spec.get("api_base_only", False)),
        features=frozenset(_list(spec.get("features", []), where="features")),
        not_included_advice={
            coerce_enum(Category, k, field="not_included_advice"): str(v) for k, v in advice.items()
        },
        **optional,
    )


def inventory_to_json(inventory: Inventory) -> dict[str, Any]:
    """The JSON shape read by ``parse_inventory_json`` (optional fields only when set)."""

    def clean(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if v not in (None, False)}

    return {
        "devices": [
            clean(
                {
                    "id": d.item_id,
                    "kind": d.kind.value,
                    "person": d.person,
                    "extension": d.extension,
                }
            )
            for d in inventory.devices
        ],
        "extensions": [
            clean(
                {
                    "id": e.item_id,
                    "kind": e.kind.value,
                    "can_call": e.can_call,
                    "can_receive": e.can_receive,
                    "can_intercom": e.can_intercom,
                    "person": e.person,
                }
            )
            for e in inventory.extensions
        ],
        "people": [
            clean({"id": p.item_id, "name": p.name, "uses_app": p.uses_app})
            for p in inventory.people
        ],
    }

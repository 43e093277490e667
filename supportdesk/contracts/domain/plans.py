"""Plans as data (SPEC E-1, E-5, E-6, E-8, E-10) and the three seed presets.

Nothing company-specific is hard-coded in the rules: a plan says which request categories it
covers, which are out of scope, which caps apply, how many preceding versions are supported and
which subscription features (E-10) it switches on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from .caps import INSTALLATION_PHONE_HOURS, PHONE_INCIDENTS_PER_YEAR, Cap
from .errors import EntitlementInputError
from .vocabulary import Category, coerce_enum, coerce_enum_set


class PlanKind(StrEnum):
    ENTERPRISE = "enterprise"
    PER_USER = "per_user"
    HOURLY_ONLY = "hourly_only"


class Feature(StrEnum):
    """Entitlement flags a plan can switch on (E-10)."""

    SUPPORT = "support"
    UPDATES = "updates"
    SOFTPHONE_APP = "softphone_app"
    REMOTE_PORTAL = "remote_portal"
    OFFSITE_DEVICES = "offsite_devices"
    INTEGRATIONS = "integrations"
    ADD_EXTENSIONS = "add_extensions"
    CONFIG_BACKUPS = "config_backups"


class ReleaseRule(StrEnum):
    """Who may download a maintenance release (E-7, K-3)."""

    # seed 000: under an active maintenance agreement for the window before it shipped
    COVERED_BEFORE_SHIP = "covered_before_ship"
    # seed 002: an active subscription with updates switched on, whenever it shipped
    ACTIVE_WITH_UPDATES = "active_with_updates"


RELEASE_WINDOW_DAYS = 30

DEFAULT_OUT_OF_SCOPE = frozenset({Category.HARDWARE, Category.NETWORK, Category.THIRD_PARTY})


def _frozen_mapping(value: Mapping[Category, str]) -> Mapping[Category, str]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class PlanRules:
    """What a plan entitles its contracts to.

    ``included_categories``: covered at no extra charge (subject to caps).
    ``out_of_scope_categories``: closed as out of scope (T-10) or worked hourly.
    ``caps``: limits and allowances per contract year (E-5).
    ``version_window``: how many versions before the current one are supported (E-6).
    ``api_base_only``: API/developer help limited to base licensed functionality (E-8).
    ``not_included_advice``: what to tell the customer per excluded category.
    ``release_rule``, ``release_window_days``: maintenance-release eligibility (E-7).
    ``addon_features``: features a contract may add on top of the plan (seed 002: the
    softphone app is an add-on to some subscriptions).
    """

    plan_id: str
    kind: PlanKind
    name: str
    included_categories: frozenset[Category] = frozenset()
    out_of_scope_categories: frozenset[Category] = DEFAULT_OUT_OF_SCOPE
    caps: tuple[Cap, ...] = ()
    version_window: int = 1
    api_base_only: bool = False
    features: frozenset[Feature] = frozenset()
    not_included_advice: Mapping[Category, str] = field(default_factory=lambda: _frozen_mapping({}))
    release_rule: ReleaseRule = ReleaseRule.COVERED_BEFORE_SHIP
    release_window_days: int = RELEASE_WINDOW_DAYS
    addon_features: frozenset[Feature] = frozenset()

    def __post_init__(self) -> None:
        if not self.plan_id.strip():
            raise EntitlementInputError("plan_id must not be empty")
        object.__setattr__(self, "kind", coerce_enum(PlanKind, self.kind, field="plan kind"))
        included = coerce_enum_set(Category, self.included_categories, field="included_categories")
        out = coerce_enum_set(Category, self.out_of_scope_categories, field="out_of_scope")
        object.__setattr__(self, "included_categories", included)
        object.__setattr__(self, "out_of_scope_categories", out)
        object.__setattr__(
            self, "features", coerce_enum_set(Feature, self.features, field="features")
        )
        object.__setattr__(self, "caps", tuple(self.caps))
        both = included & out
        if both:
            names = ", ".join(sorted(c.value for c in both))
            raise EntitlementInputError(
                f"plan {self.plan_id!r}: categories both included and out of scope: {names}"
            )
        names_seen: set[str] = set()
        for cap in self.caps:
            if cap.name in names_seen:
                raise EntitlementInputError(f"plan {self.plan_id!r}: duplicate cap {cap.name!r}")
            names_seen.add(cap.name)
        if isinstance(self.version_window, bool) or self.version_window < 0:
            raise EntitlementInputError(
                f"plan {self.plan_id!r}: version_window must be 0 or more, "
                f"got {self.version_window!r}"
            )
        object.__setattr__(self, "not_included_advice", _frozen_mapping(self.not_included_advice))
        object.__setattr__(
            self, "release_rule", coerce_enum(ReleaseRule, self.release_rule, field="release_rule")
        )
        addons = coerce_enum_set(Feature, self.addon_features, field="addon_features")
        object.__setattr__(self, "addon_features", addons)
        days = self.release_window_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3660:
            raise EntitlementInputError(
                f"plan {self.plan_id!r}: release_window_days must be 0..3660, got {days!r}"
            )


ENTERPRISE_PLAN = PlanRules(
    plan_id="enterprise-advantage",
    kind=PlanKind.ENTERPRISE,
    name="Enterprise support (24x7, Dedicated Support Engineer)",
    included_categories=frozenset(
        {Category.PROBLEM, Category.HOW_TO, Category.FEATURE, Category.API_DEVELOPER}
    ),
    caps=(INSTALLATION_PHONE_HOURS,),
    version_window=1,
    api_base_only=True,
    features=frozenset({Feature.SUPPORT, Feature.UPDATES}),
    not_included_advice={
        Category.INSTALLATION: (
            "Installation and consulting services are not included; basic installation help is "
            "available by phone (4 h maximum), otherwise offer on-site installation"
        ),
        Category.CONSULTING: (
            "consulting services are not included: offer Professional Services through the "
            "Dedicated Support Engineer"
        ),
        Category.ON_SITE: (
            "on-site installation and integration is a separate service: a qualified "
            "installation engineer is dispatched at its own price"
        ),
    },
)
"""Seed 000: using the product, enabling features, problems and API help (base functionality
only) are included; installation and consulting are not, except basic installation help by
phone capped at 4 hours."""

PER_USER_PLAN = PlanRules(
    plan_id="per-user-subscription",
    kind=PlanKind.PER_USER,
    name="Per-user phone-system support subscription",
    included_categories=frozenset(
        {
            Category.PROBLEM,
            Category.HOW_TO,
            Category.INSTALLATION,
            Category.FEATURE,
            Category.TRAINING,
        }
    ),
    caps=(PHONE_INCIDENTS_PER_YEAR,),
    version_window=1,
    features=frozenset(Feature) - {Feature.SOFTPHONE_APP},
    addon_features=frozenset({Feature.SOFTPHONE_APP}),
    not_included_advice={
        Category.API_DEVELOPER: "custom API development is not part of the subscription",
        Category.ON_SITE: (
            "on-site technician troubleshooting, repair or other services is not included "
            "with a Support Subscription"
        ),
        Category.CONSULTING: "consulting is not part of the subscription",
    },
    release_rule=ReleaseRule.ACTIVE_WITH_UPDATES,
    release_window_days=0,
)
"""Seed 002: questions, changes, updates, onboarding and training included; phone support limited
to 5 incidents per year; on-site work is billed hourly; hardware, network and third-party issues
may be left to the customer."""

HOURLY_PLAN = PlanRules(
    plan_id="msp-hourly",
    kind=PlanKind.HOURLY_ONLY,
    name="MSP helpdesk, hourly by time period",
    out_of_scope_categories=frozenset(),
    version_window=1,
)
"""Seed 001: any work for any identified contact, all billed hourly at the agreed rate
schedule (B-7); nothing is out of scope for the MSP."""

PRESET_PLANS: Mapping[str, PlanRules] = MappingProxyType(
    {plan.plan_id: plan for plan in (ENTERPRISE_PLAN, PER_USER_PLAN, HOURLY_PLAN)}
)

"""Shared vocabulary: request channels and categories (SPEC T-1, E-8, T-10)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from .errors import EntitlementInputError


class Channel(StrEnum):
    EMAIL = "email"
    PORTAL = "portal"
    PHONE = "phone"
    VOICEMAIL = "voicemail"
    FAX = "fax"
    MONITORING = "monitoring"
    API = "api"


class Category(StrEnum):
    PROBLEM = "problem"
    HOW_TO = "how_to"
    INSTALLATION = "installation"
    API_DEVELOPER = "api_developer"
    FEATURE = "feature"
    HARDWARE = "hardware"
    NETWORK = "network"
    THIRD_PARTY = "third_party"
    CONSULTING = "consulting"  # seed 000: consulting services are not included
    TRAINING = "training"  # onboarding and training new users (seed 002: included)
    ON_SITE = "on_site"  # on-site technician work (seed 002: not included)


E = TypeVar("E", bound=StrEnum)


def coerce_enum(enum: type[E], value: object, *, field: str) -> E:
    """Turn ``value`` (an enum member or its string value) into ``enum``, or explain the error."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in enum)
    raise EntitlementInputError(f"{field}: unknown value {value!r} (expected one of: {allowed})")


def coerce_enum_set(enum: type[E], values: object, *, field: str) -> frozenset[E]:
    """Coerce an iterable of values into a frozenset of ``enum`` members."""
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise EntitlementInputError(f"{field}: expected a collection, got {values!r}")
    return frozenset(coerce_enum(enum, v, field=field) for v in values)

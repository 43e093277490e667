"""Errors raised by the pure entitlement layer.

Adapters (API, forms, importers) turn these into 4xx responses with the message shown to the
user; they are never a 500.
"""

from __future__ import annotations


class EntitlementInputError(ValueError):
    """Input to an entitlement rule is malformed or inconsistent.

    The message says what is wrong and where (field, line number).
    """

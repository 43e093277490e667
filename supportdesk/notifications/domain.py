"""Retry schedule for outbox delivery: pure."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(*, attempts: int, base_seconds: int, cap_seconds: int = 6 * 3600) -> timedelta:
    """Exponential backoff after `attempts` failed tries: base, 2·base, 4·base, … capped."""
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** (attempts - 1)))


SUBJECT_MAX = 300  # OutboxMessage.subject


def fit_subject(subject: str, limit: int = SUBJECT_MAX) -> str:
    """`subject` cut to `limit` characters with an ellipsis: a derived subject ("[#12] " or
    "Customer replied: " before a ticket subject that is already at its maximum) must fit."""
    if len(subject) <= limit:
        return subject
    return subject[: limit - 1].rstrip() + "…"

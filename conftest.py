"""Fixtures shared by every test module: a small two-vendor world and API clients.

Django-dependent imports stay inside the fixtures so pure domain tests run without Django.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest

os.environ.setdefault("SECRET_KEY", "test-secret-key")

# Property tests assert answers, not speed (speed lives in bench/): on a shared, loaded
# machine an example may take longer than hypothesis's default 200 ms deadline or its
# data-generation budget without anything being wrong.
hypothesis.settings.register_profile(
    "supportdesk", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("supportdesk")


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Real hashing strength is not under test; it costs seconds per user otherwise."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: Any, settings: Any, tmp_path: Any) -> Any:
    from tests.factories import build_world

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build_world()


@pytest.fixture(autouse=True)
def throttle_answers_forgotten(request: pytest.FixtureRequest) -> None:
    """Each test starts without the addresses a test before it found not locked out
    (accounts.throttling.bearer_address_allowed), and their second does not pass while it
    runs (a test that needs it to passes its own clock): statement counts are the test's own,
    however slow the machine."""
    if request.config.pluginmanager.hasplugin("django"):
        from supportdesk.accounts import throttling

        throttling._ADDRESSES_ALLOWED.clear()
        request.getfixturevalue("monkeypatch").setattr(throttling, "monotonic", lambda: 0.0)


@pytest.fixture
def api(client: Any) -> Any:
    """`api(user)` → a client that sends that user's fresh bearer token."""
    from tests.factories import ApiClient

    def make(user: Any) -> Any:
        return ApiClient(client, user)

    return make

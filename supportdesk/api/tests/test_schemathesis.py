"""Issue 17.6: schemathesis against /api/v1/openapi.json, in-process through the WSGI app.

Every operation is exercised with a staff token and a contact token: the schema's examples,
its boundary values (coverage phase) and derandomised fuzzing with a fixed number of examples.
Any 5xx, an undocumented status code or content type, or a body that does not match the
documented response schema fails the test. Path ids mostly point at real objects of the
principal's own vendor (built by builders.BUILDERS), so operations get past their 404s.
Runs in `make test` on SQLite and on PostgreSQL (.ci/run).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from supportdesk.accounts.services import api_token_create
from supportdesk.api.tests.builders import BUILDERS
from supportdesk.core.tenancy import principal_for
from supportdesk.oncall import feed_tokens
from tests.factories import NOW

# The WSGI handler itself, not config.wsgi: that module also refuses to serve without a
# production SECRET_KEY and PUBLIC_BASE_URL, which the test settings do not have.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12  # per operation and principal; with the coverage phase ~1-2 minutes per database


@pytest.fixture
def in_test_transaction() -> Any:
    """Requests go through the real WSGI handler, whose request signals would close the test's
    database connection and with it the transaction the test data lives in (as Django's test
    client does, the signal is off while the test runs)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def own(world: Any, in_test_transaction: Any) -> dict[str, Any]:
    """Tokens and one real object per path parameter, all of the world's vendor and Acme."""
    values: dict[str, Any] = {
        name: build(world, world.acme) for name, (build, _) in BUILDERS.items()
    }
    values["token"] = feed_tokens.feed_token_create(principal=principal_for(world.agent), now=NOW)
    values["bearer"] = {
        "staff": api_token_create(user=world.agent),
        "contact": api_token_create(user=world.alice.user),
    }
    return values


@pytest.mark.parametrize("who", ["staff", "contact"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case: Any, who: str, own: dict[str, Any]) -> None:
    for name, value in (case.path_parameters or {}).items():
        # Most generated ids become a real object; every fifth stays as generated (boundaries).
        # String ids (a plan's id or slug) by their length, numbers by their value.
        if name == "token" or (isinstance(value, int) and value % 5):
            case.path_parameters[name] = own[name]
        elif isinstance(value, str) and name in BUILDERS and len(value) % 5:
            case.path_parameters[name] = str(own[name])
    case.call_and_validate(headers={"Authorization": f"Bearer {own['bearer'][who]}"}, checks=CHECKS)

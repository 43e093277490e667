from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

# The WSGI handler itself, not config.wsgi: that module also refuses to serve without a
# production SECRET_KEY and PUBLIC_BASE_URL, which the test settings do not have.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def tokens(world):
    from supportdesk.accounts.services import api_token_create
    from tests.factories import make_ticket

    make_ticket(world)
    return {
        "staff": api_token_create(user=world.agent),
        "contact": api_token_create(user=world.alice.user),
    }


@pytest.mark.parametrize("who", ["staff", "contact"])
@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case, who, tokens):
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[who]}"}, checks=CHECKS)

"""Fixtures of the Django monitoring tests: the world with an emergency chain (on-call tests'
`paging`), an active contract for Acme, a designated administrator, and an integration."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from supportdesk.oncall.tests.conftest import paging, provider  # noqa: F401  (fixtures)

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Monitoring:
    world: Any
    paging: Any
    integration: Any
    token: str
    admin: Any  # Acme's designated administrator (E-3)

    def post(
        self,
        client: Any,
        body: Any,
        *,
        token: str | None = None,
        apply: bool = True,
        **headers: Any,
    ) -> Any:
        """POST to the webhook; with `apply`, then run the task the webhook woke the worker
        for, as the worker would."""
        from supportdesk.monitoring.tasks import monitoring_apply

        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer = client.post(
            f"/hooks/monitoring/{token or self.token}",
            data=data,
            content_type="application/json",
            **headers,
        )
        if apply:
            monitoring_apply.call()
        return answer


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def mon(paging: Any, settings: Any, monkeypatch: Any) -> Monitoring:  # noqa: F811
    from supportdesk.contracts.tests.django_helpers import make_contract
    from supportdesk.core.tenancy import principal_for
    from supportdesk.customers.services import contact_create
    from supportdesk.monitoring.services_integrations import integration_create
    from tests.factories import NOW

    # Each test starts with no wake-up seen, and the worker's run ends as soon as it is idle.
    monkeypatch.setattr("supportdesk.monitoring.tasks._waiting_seen_at", float("-inf"))
    monkeypatch.setattr("supportdesk.monitoring.tasks.APPLY_LINGER_SECONDS", 0.0)
    world = paging.world
    settings.PUBLIC_BASE_URL = "https://desk.example"
    make_contract(world.acme, "per_user")
    admin = contact_create(
        organization=world.acme,
        name="Ada Admin",
        emails=["ada@acme.example"],
        role="administrator",
    )
    world.agent.roles.create(role="admin")
    integration, token = integration_create(
        principal=principal_for(world.agent),
        vendor=world.vendor,
        name="Prometheus",
        now=NOW,
        group_wait_seconds=0,
    )
    return Monitoring(world, paging, integration, token, admin)

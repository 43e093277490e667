"""Issue 17.6: tenancy checked on every API path the schema lists, not on a hand-kept list.

For each operation with a path parameter, a principal asks for an object that belongs to
someone else: staff of the vendor ask for the rival vendor's, a contact asks for another
organisation's (or, for vendor-level objects, the rival vendor's). The answer must be a 404 —
or a 403 — exactly as for an id that does not exist, so nothing tells that the object exists.
The same request for the principal's own object must not be a 404, so the check cannot pass
because the request was malformed. A new path parameter name without a builder in BUILDERS
(builders.BUILDERS) fails `test_every_path_parameter_has_a_builder`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from supportdesk.api.api import api as ninja_api
from supportdesk.api.tests.builders import BUILDERS, issued_invoice
from supportdesk.assets.models import Rma
from supportdesk.core.tenancy import principal_for
from supportdesk.oncall import feed_tokens
from supportdesk.oncall.models import ChainRun
from supportdesk.tickets.models import Queue
from tests.factories import NOW

pytestmark = pytest.mark.django_db

SCHEMA = ninja_api.get_openapi_schema()
MISSING = 2**62


# Answered 404 to every contact whatever the object (paging, deciding count changes are for
# staff): no own object to see.
STAFF_ONLY = {
    ("post", "/api/v1/tickets/{ref}/page"),
    ("post", "/api/v1/user-count-changes/{change_id}"),
}
# Parameters that are not object ids: the value the principal would legitimately send.
CREDENTIALS = {"token"}


def _operations() -> list[tuple[str, str, list[str], dict[str, Any]]]:
    found = []
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            if names:
                found.append((path, method, names, operation))
    return found


OPERATIONS = _operations()


def test_every_path_parameter_has_a_builder():
    names = {name for _, _, params, _ in OPERATIONS for name in params}
    assert names, "the schema lists no path parameters: the generator is broken"
    assert names <= set(BUILDERS) | CREDENTIALS, sorted(names - set(BUILDERS) - CREDENTIALS)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = SCHEMA["components"]["schemas"][name]
    return schema


def example(schema: dict[str, Any]) -> Any:
    """The smallest value the schema accepts: required fields only, defaults and first enums."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o).get("type") != "null"]
            return example(options[0])
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: example(props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return "1.00" if schema.get("format") == "decimal" else 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return "2026-01-05"
    if schema.get("format") == "date-time":
        return "2026-01-05T09:00:00Z"
    return "x" * max(1, schema.get("minLength", 1))


def _body(operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return example(content["application/json"]["schema"])


def _request(
    who, method: str, path: str, values: dict[str, Any], body: Any, query: Any = None
) -> Any:
    url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
    if method == "get":
        return who.client.get(url, query or {}, **who.headers)
    return getattr(who.client, method)(
        url, "" if body is None else json.dumps(body),
        content_type="application/json", **who.headers,
    )  # fmt: skip


@pytest.mark.parametrize("principal", ["staff", "contact"])
@pytest.mark.parametrize(
    ("path", "method", "names", "operation"),
    OPERATIONS,
    ids=[f"{method.upper()} {path}" for path, method, _, _ in OPERATIONS],
)
def test_foreign_objects_answer_like_missing_ones(
    api, world, path, method, names, operation, principal
):
    user = world.agent if principal == "staff" else world.alice.user
    client = api(user)
    # The rival vendor's object; for a contact, another organisation's of its own vendor when
    # the object belongs to an organisation.
    levels = {BUILDERS[name][1] for name in names if name in BUILDERS}
    contact_org_level = principal == "contact" and levels == {"organization"}
    foreign_org = world.globex if contact_org_level else world.rival_org
    values: dict[str, dict[str, Any]] = {"foreign": {}, "own": {}, "missing": {}}
    if "token" in names:  # the calendar link of a staff member of the principal's vendor
        token = feed_tokens.feed_token_create(principal=principal_for(world.agent), now=NOW)
        for kind in values:
            values[kind]["token"] = token
    ids = [name for name in names if name != "token"]
    body = _body(operation)
    # Foreign objects first: numbers per vendor (invoices) must not collide with own ones.
    for name in ids:
        values["foreign"][name] = BUILDERS[name][0](world, foreign_org)
        values["missing"][name] = MISSING
    foreign = _request(client, method, path, values["foreign"], body)
    missing = _request(client, method, path, values["missing"], body)
    assert foreign.status_code in (403, 404), (foreign.status_code, foreign.content[:300])
    assert foreign.status_code == missing.status_code, (foreign.content[:300], missing.content)
    for name in ids:
        values["own"][name] = BUILDERS[name][0](world, world.acme)
    own = _request(client, method, path, values["own"], body)
    sees_own = principal == "staff" or (contact_org_level and (method, path) not in STAFF_ONLY)
    if foreign.status_code == 404 and sees_own:
        assert own.status_code != 404, own.content[:300]


# Integer query parameters that name an object → the builder of that object; others are counts.
QUERY_IDS = {
    "organization": "org_id", "ticket": "ref", "queue": "queue", "assignee": "assignee",
    "asset": "asset",
}  # fmt: skip
QUERY_COUNTS = {"limit"}


def _query_operations() -> list[tuple[str, str, str]]:
    found = []
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            for param in operation.get("parameters", []):
                schema = param["schema"]
                kinds = {o.get("type") for o in schema.get("anyOf", [schema])}
                if param["in"] == "query" and "integer" in kinds:
                    found.append((path, method, param["name"]))
    return found


QUERY_OPERATIONS = _query_operations()


def test_every_integer_query_parameter_is_known():
    names = {name for _, _, name in QUERY_OPERATIONS}
    assert names and names <= set(QUERY_IDS) | QUERY_COUNTS, sorted(names)


def _empty(response: Any) -> bool:
    if response["Content-Type"].startswith("text/csv"):
        return len(response.content.decode().strip().splitlines()) <= 1
    body = response.json()
    if isinstance(body, dict):
        body = body.get("items", body.get("rows", body))
    return body == [] or body == {}


def _device_with_rma(world: Any, org: Any) -> int:
    """A device of `org` with an RMA, which a leak through ?asset= would show."""
    return Rma.objects.get(pk=BUILDERS["rma_id"][0](world, org)).asset_id


@pytest.mark.parametrize("principal", ["staff", "contact"])
@pytest.mark.parametrize(
    ("path", "method", "name"),
    [op for op in QUERY_OPERATIONS if op[2] in QUERY_IDS],
    ids=[f"{m.upper()} {p}?{n}" for p, m, n in QUERY_OPERATIONS if n in QUERY_IDS],
)
def test_foreign_ids_in_filters_find_nothing(api, world, path, method, name, principal):
    """A filter naming someone else's object answers 404/403 or an empty result, never rows;
    the foreign organisation has a ticket and an escalation run that a leak would show."""
    user = world.agent if principal == "staff" else world.alice.user
    foreign_org = world.rival_org if principal == "staff" else world.globex
    run = ChainRun.objects.get(pk=BUILDERS["run_id"][0](world, foreign_org))
    issued_invoice(foreign_org)
    foreign = {
        "asset": _device_with_rma(world, foreign_org) if QUERY_IDS[name] == "asset" else 0,
        "org_id": foreign_org.pk,
        "ref": run.ticket.ref,
        "queue": Queue.objects.get(vendor=world.other_vendor).pk,
        "assignee": world.rival_agent.pk,
    }[QUERY_IDS[name]]
    values = {
        param: BUILDERS[param][0](world, world.acme) for param in re.findall(r"{(\w+)}", path)
    }
    response = _request(api(user), method, path, values, None, query={name: foreign})
    assert response.status_code in (200, 403, 404), response.content[:300]
    if response.status_code == 200:
        assert _empty(response), response.content[:500]

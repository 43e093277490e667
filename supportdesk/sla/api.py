"""GET /api/v1/reports/sla — compliance per organisation, plan, priority and month (S-5)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Id
from supportdesk.sla import selectors

router = Router(tags=["sla"])


class ReportQuery(Schema):
    organization: Id | None = None
    plan: str | None = None
    priority: str | None = None
    month: str | None = None
    month_from: str | None = None
    month_to: str | None = None
    target: str = "first_response"


class OrgRef(Schema):
    id: int
    name: str


class ReportRow(Schema):
    organization: OrgRef
    plan: str | None
    priority: str
    month: str
    target: str
    met: int
    breached: int
    running: int
    cancelled: int
    compliance_percent: float | None
    median_response_seconds: float | None
    p90_response_seconds: float | None


class Report(Schema):
    groups: list[ReportRow]


@router.get("/reports/sla", response={200: Report, **ERRORS})
def sla_report(request: HttpRequest, query: Query[ReportQuery]) -> Any:
    filters = selectors.ReportFilters(
        organization_id=query.organization,
        plan=query.plan or None,
        priority=query.priority or None,
        month=query.month or None,
        month_from=query.month_from or None,
        month_to=query.month_to or None,
        target=query.target,
    )
    return {"groups": selectors.sla_report(principal=principal_of(request), filters=filters)}

"""The CSP middleware that builds its policy once (issue 16.1, core/csp.py) sets exactly the
headers django-csp's own sets, whatever the response, the request and the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from supportdesk.core.csp import CSPMiddleware

REPORT_ONLY = {
    "EXCLUDE_URL_PREFIXES": ["/hooks/"],
    "DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE], "report-uri": "/r"},
}


def _plain(response: HttpResponse) -> None:
    pass


def _exempt(response: HttpResponse) -> None:
    response._csp_exempt = True  # type: ignore[attr-defined]


def _exempt_report_only(response: HttpResponse) -> None:
    response._csp_exempt_ro = True  # type: ignore[attr-defined]


def _updated(response: HttpResponse) -> None:
    response._csp_update = {"img-src": ["https://img.example"]}  # type: ignore[attr-defined]


def _replaced_report_only(response: HttpResponse) -> None:
    response._csp_replace_ro = {"default-src": [SELF, "https://x.example"]}  # type: ignore[attr-defined]


def _header_set(response: HttpResponse) -> None:
    response[HEADER] = "default-src 'none'"


CHANGES: list[Callable[[HttpResponse], None]] = [
    _plain, _exempt, _exempt_report_only, _updated, _replaced_report_only, _header_set,
]  # fmt: skip


def _headers(middleware_class: type, path: str, status: int, change, use_nonce: bool) -> dict:
    """The CSP headers set, and whether asking for the nonce afterwards is refused."""
    request: Any = RequestFactory().get(path)
    response = HttpResponse(status=status)
    change(response)
    middleware = middleware_class(lambda r: response)
    middleware.process_request(request)
    if use_nonce:
        str(request.csp_nonce)
        request._csp_nonce = "fixed-nonce"  # both middleware see the same nonce
    result = middleware.process_response(request, response)
    try:
        str(request.csp_nonce)
        refused = False
    except CSPNonceError:
        refused = True
    return {"refused": refused, **{h: result.get(h) for h in (HEADER, HEADER_REPORT_ONLY)}}


@pytest.mark.parametrize("report_only", [None, REPORT_ONLY])
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/tickets", "/hooks/mail/inbound"])
@pytest.mark.parametrize("status", [200, 404])
@pytest.mark.parametrize("use_nonce", [False, True])
@pytest.mark.parametrize("change", CHANGES)
def test_headers_equal_django_csps(report_only, debug, path, status, use_nonce, change):
    with override_settings(DEBUG=debug, CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        ours = _headers(CSPMiddleware, path, status, change, use_nonce)
        theirs = _headers(DjangoCSPMiddleware, path, status, change, use_nonce)
    assert ours == theirs
    if status == 200 and change is _plain:
        assert ours[HEADER]  # the policy is set, not left out on both sides
        assert ours["refused"] is not use_nonce


def test_a_changed_setting_is_built_afresh():
    middleware = CSPMiddleware(lambda r: HttpResponse())
    before = _headers(CSPMiddleware, "/", 200, _plain, False)[HEADER]
    middleware._policies()
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": [SELF]}}):
        assert middleware._policies() == ("default-src 'self'", "")
    assert middleware._policies()[0] == before

"""Every console and portal page carries a strict Content-Security-Policy, has no inline script,
event handler or <style> element, and loads nothing from another origin (issue 17.2).

The pages are found by following links from /console/, /portal/ and /kb/ over the demo data."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from supportdesk.accounts.models import User
from supportdesk.demo.load import demo_load

pytestmark = pytest.mark.django_db
TEMPLATE_ROOT = Path(__file__).resolve().parents[1] / "supportdesk"
PAGE_LIMIT = 150


class PageScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in values:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
        # A JSON data block is never executed; anything else without src is an inline script.
        if tag == "script" and not values.get("src") and values.get("type") != "application/json":
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        # A canonical link names the page's public address (PUBLIC_BASE_URL); nothing loads it.
        loads = tag == "link" and values.get("rel") != "canonical"
        for name in ("src", "srcset", "data", "poster") + (("href",) if loads else ()):
            value = values.get(name, "")
            host = urlsplit(value.strip()).netloc
            if host and host != "testserver":
                self.problems.append(f"<{tag} {name}={value}> loads from another origin")
            if value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "a" and values.get("href", "").lower().startswith("javascript:"):
            self.problems.append("<a href=javascript:…>")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


def crawl(client, starts: list[str]) -> dict[str, list[str]]:
    """path → problems, for every same-origin page reachable from `starts` (bounded)."""
    seen: dict[str, list[str]] = {}
    queue = list(starts)
    deadline = time.monotonic() + 120
    while queue and len(seen) < PAGE_LIMIT and time.monotonic() < deadline:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path)
        if not response["Content-Type"].startswith("text/html"):
            continue
        policy = response.get("Content-Security-Policy", "")
        scan = PageScan()
        scan.feed(response.content.decode())
        problems = list(scan.problems)
        script_src = next((d for d in policy.split(";") if d.strip().startswith("script-src")), "")
        if "'self'" not in script_src or "unsafe" in script_src:
            problems.append(f"no strict script-src in CSP {policy!r}")
        if "default-src 'self'" not in policy or "frame-ancestors 'none'" not in policy:
            problems.append(f"weak CSP {policy!r}")
        seen[path] = problems
        for link in scan.links:
            target = urlsplit(urljoin(path, link))
            if target.netloc or not target.path.startswith(("/console/", "/portal/", "/kb/")):
                continue
            if target.path.endswith((".ics", ".pdf", ".csv")):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()


def test_console_and_portal_pages_have_csp_and_no_inline_script_or_external_asset(client, demo):
    client.force_login(User.objects.get(email="agent@northwind.example"))
    pages = crawl(client, ["/console/"])
    client.logout()
    contact = User.objects.filter(contact__isnull=False, is_active=True).order_by("pk").first()
    client.force_login(contact)
    pages |= crawl(client, ["/portal/"])
    client.logout()
    pages |= crawl(client, ["/kb/"])  # the public knowledge base, anonymous
    print(f"{len(pages)} pages crawled")
    assert len(pages) >= 20, sorted(pages)  # the crawl really walked the product
    assert any(p.startswith("/console/tickets/") for p in pages)
    assert any(p.startswith("/portal/tickets/") for p in pages)
    assert any(p.startswith("/kb/") and p != "/kb/" for p in pages)
    bad = {path: problems for path, problems in pages.items() if problems}
    assert bad == {}


def test_login_error_and_api_docs_pages_serve_everything_themselves(client, demo):
    for path in ("/login/", "/api/v1/docs"):
        response = client.get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response["Content-Security-Policy"]
        scan = PageScan()
        scan.feed(response.content.decode())
        assert scan.problems == [], path
    docs = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        assert client.get(f"/static/ninja/{asset}").status_code == 200


def test_the_django_admin_works_under_the_policy(client, demo):
    client.force_login(User.objects.get(email="admin@supportdesk.localhost"))
    for path in ("/admin/", "/admin/core/vendor/", "/admin/tickets/ticket/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"]
        scan = PageScan()
        scan.feed(response.content.decode())
        assert scan.problems == [], path


def test_no_template_has_inline_style_script_or_handler():
    offenders = []
    for template in TEMPLATE_ROOT.glob("*/templates/**/*.html"):
        text = template.read_text()
        scan = PageScan()
        scan.feed(text)
        problems = [p for p in scan.problems if "another origin" not in p]
        if " style=" in text:
            problems.append("style= attribute")
        if problems:
            offenders.append((template.relative_to(TEMPLATE_ROOT).as_posix(), problems))
    assert offenders == []

"""Issue 17.3: customer HTML from the API goes through the mail sanitiser, bounded first."""

from __future__ import annotations

import time

import pytest

from supportdesk.tickets.domain.content import HTML_MAX_CHARS, sanitize_html
from supportdesk.tickets.models import Message
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script>'
    '<img src="https://tracker.example/pixel.gif" alt="pixel">'
    '<img src="cid:logo@acme" alt="logo">'
    '<a href="javascript:alert(1)">x</a><a href="https://acme.example/">site</a>'
    '<div style="background: url(https://tracker.example/bg.png)">styled</div>'
)


def _post_html(api, world, html):
    ticket = make_ticket(world)
    return api(world.alice.user).post(
        f"/tickets/{ticket.ref}/messages", {"body": "see html", "body_html": html}
    )


def test_api_html_is_stored_as_the_mail_sanitiser_leaves_it(api, world):
    response = _post_html(api, world, HOSTILE)
    assert response.status_code == 201, response.content
    stored = Message.objects.get(pk=response.json()["id"]).body_html
    assert stored == sanitize_html(HOSTILE)
    assert "tracker.example" not in stored  # remote image and CSS url stripped
    assert "<script" not in stored and "onclick" not in stored and "javascript:" not in stored
    assert 'src="cid:logo@acme"' in stored and "<b>there</b>" in stored
    assert 'href="https://acme.example/"' in stored


def test_deeply_nested_html_at_the_limit_is_flattened_quickly(api, world):
    html = ("<div>" * 40_000 + "deep" + "</div>" * 40_000)[: HTML_MAX_CHARS - 10]
    started = time.process_time()
    response = _post_html(api, world, html)
    assert response.status_code == 201, response.content[:300]
    assert time.process_time() - started < 5  # was quadratic: 19.8 s CPU for 687 KiB


def test_html_over_the_limit_is_refused_before_parsing(api, world):
    html = ("<div>" * 80_000 + "deep" + "</div>" * 80_000)[: 700 * 1024]
    started = time.process_time()
    response = _post_html(api, world, html)
    assert response.status_code == 422, response.content[:300]
    assert "body_html" in response.json()["detail"]
    assert time.process_time() - started < 2

"""Console queue page (T-12, issue 10.2): views with counts, filters, saved views, pages."""

from __future__ import annotations

import re

import pytest

from supportdesk.tickets.models import SavedView
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_views_show_their_counts_and_the_list_pages_with_a_total_T12(world, client):
    for i in range(3):
        make_ticket(world, subject=f"Open {i}")
    client.force_login(world.agent)
    html = client.get("/console/").content.decode()
    counts = dict(re.findall(r'data-view="([a-z-]+)">[^<]+<span class="count">(\d+)</span>', html))
    assert counts["open"] == "3" and counts["unassigned"] == "3" and counts["mine"] == "0"
    assert "Page 1 of 1 · 3 tickets" in html
    partial = client.get("/console/", {"view": "mine"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Page 1 of 1 · 0 tickets" in partial


def test_save_a_filter_combination_and_open_it_again_T12(world, client):
    make_ticket(world, subject="Urgent one", priority="P1")
    make_ticket(world, subject="Slow one", priority="P4")
    client.force_login(world.agent)
    response = client.post(
        "/console/views/save/", {"name": "My P1s", "priority": "P1", "sort": "created"}
    )
    saved = SavedView.objects.get(user=world.agent)
    assert saved.query == {"priority": "P1", "sort": "created"}
    listing = client.get(response["Location"], follow=True).content.decode()
    assert "Urgent one" in listing and "Slow one" not in listing and "My P1s" in listing
    client.force_login(world.engineer)  # another agent can neither open nor delete it
    assert client.get("/console/", {"saved": saved.pk}).status_code == 404
    assert client.post(f"/console/views/{saved.pk}/delete/").status_code == 404
    client.force_login(world.agent)
    client.post(f"/console/views/{saved.pk}/delete/")
    assert not SavedView.objects.exists()


def test_bad_filters_show_a_message_not_an_error_page_T12(world, client):
    client.force_login(world.agent)
    page = client.get("/console/", {"priority": "P9"})
    assert (
        page.status_code == 200
        and "Filter ignored: priority must be one of" in page.content.decode()
    )
    refused = client.post("/console/views/save/", {"name": "x", "created_from": "soon"})
    assert refused.status_code == 400 and b"created from must be a date" in refused.content


def test_bulk_form_posts_through_the_services_and_shows_a_summary_T12(world, client):
    a, b = make_ticket(world, subject="a"), make_ticket(world, subject="b")
    foreign = make_ticket(world, world.rex, subject="other vendor")
    client.force_login(world.agent)
    response = client.post(
        "/console/bulk/",
        {"ticket": [a.ref, b.ref, foreign.ref], "action": "priority", "priority": "P2",
         "status": "open", "next": "/console/?view=open"},
        follow=True,
    )  # fmt: skip
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/console/?view=open"
    assert "Set priority: 2 changed, 1 refused" in html and f"#{foreign.ref}: ticket" in html
    off_site = client.post(
        "/console/bulk/",
        {"ticket": [a.ref], "action": "tag", "tag": "x", "next": "//evil.example/"},
    )
    assert off_site["Location"] == "/console/"
    nothing = client.post("/console/bulk/", {"action": "tag", "tag": "x"})
    assert nothing.status_code == 400 and b"select at least one ticket" in nothing.content

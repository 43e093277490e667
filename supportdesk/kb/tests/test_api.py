"""/api/v1/articles: visibility and tenancy per endpoint, search results included (K-2)."""

from __future__ import annotations

import pytest

from supportdesk.kb.models import Article
from supportdesk.kb.tests.kb_helpers import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(world):
    return {
        name: make_article(world, title=f"{name.title()} fax", body="faxword", visibility=name)
        for name in ("public", "customers", "internal")
    } | {
        "draft": make_article(world, title="Draft fax", body="faxword", published=False),
        "rival": make_article(world, title="Rival fax", body="faxword", vendor=world.other_vendor),
    }


def _titles(response):
    assert response.status_code == 200, response.content
    return {item["title"] for item in response.json()["items"]}


def test_contacts_never_get_internal_drafts_or_another_vendors_articles(api, world, articles):
    alice = api(world.alice.user)
    expected = {"Public fax", "Customers fax"}
    assert _titles(alice.get("/articles")) == expected
    found = alice.get("/articles", q="faxword")
    assert _titles(found) == expected
    assert all("<mark>faxword</mark>" in i["snippet"] for i in found.json()["items"])
    for name in ("internal", "draft", "rival"):
        assert alice.get(f"/articles/{articles[name].pk}").status_code == 404, name
    assert alice.get(f"/articles/{articles['customers'].pk}").json()["title"] == "Customers fax"
    rex = api(world.rex.user)
    assert _titles(rex.get("/articles", q="faxword")) == {"Rival fax"}
    assert rex.get(f"/articles/{articles['public'].pk}").status_code == 404


def test_staff_see_every_state_of_their_own_vendor_only(api, world, articles):
    agent = api(world.agent)
    mine = {"Public fax", "Customers fax", "Internal fax", "Draft fax"}
    assert _titles(agent.get("/articles")) == mine
    assert _titles(agent.get("/articles", q="faxword")) == mine
    assert _titles(agent.get("/articles", status="draft")) == {"Draft fax"}
    assert agent.get(f"/articles/{articles['rival'].pk}").status_code == 404
    assert agent.get(f"/articles/{articles['internal'].pk}").json()["visibility"] == "internal"


def test_staff_create_update_and_publish_contacts_cannot(api, world, articles):
    agent = api(world.agent)
    created = agent.post(
        "/articles",
        {"title": "Cover pages", "body": "Use *templates*.", "visibility": "customers",
         "category": "How-to"},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and "<em>templates</em>" in body["body_html"]
    patched = agent.patch(
        f"/articles/{body['id']}", {"body": "Use cover templates.", "status": "published"}
    )
    assert patched.status_code == 200 and patched.json()["status"] == "published"
    assert Article.objects.get(pk=body["id"]).revisions.count() == 2
    alice = api(world.alice.user)
    assert _titles(alice.get("/articles", q="templates")) == {"Cover pages"}
    refused = alice.post("/articles", {"title": "x", "body": "y"})
    assert refused.status_code == 403
    assert alice.patch(f"/articles/{body['id']}", {"title": "Hacked"}).status_code == 404
    rival = api(world.rival_agent)
    assert rival.patch(f"/articles/{body['id']}", {"title": "Hacked"}).status_code == 404
    bad = agent.patch(f"/articles/{body['id']}", {"status": "review"})
    assert bad.status_code == 409  # published goes back to draft first
    foreign_product = agent.post("/articles", {"title": "x", "body": "y", "products": [999999]})
    assert foreign_product.status_code == 404

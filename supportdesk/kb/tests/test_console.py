"""Console pages of the knowledge base (K-2): vendor staff only."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from supportdesk.core.tenancy import principal_for
from supportdesk.kb.models import Article, ArticleStatus
from supportdesk.kb.tests.kb_helpers import make_article
from supportdesk.tickets import services as ticket_services
from supportdesk.tickets.models import Status
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(out, "PNG")
    return out.getvalue()


def test_write_review_publish_with_revisions_and_an_image(client, world):
    client.force_login(world.agent)
    data = {"title": "Fax cover pages", "body": "Old text.", "visibility": "public",
            "new_category": "How-to"}  # fmt: skip
    created = client.post("/console/kb/new/", data)
    assert created.status_code == 302
    article = Article.objects.get(title="Fax cover pages")
    assert article.category.name == "How-to"
    edit = f"/console/kb/{article.pk}/"
    assert client.post(edit, {**data, "body": "New text.", "note": "clearer"}).status_code == 302
    revisions = client.get(f"{edit}revisions/").content.decode()
    assert "-Old text." in revisions and "+New text." in revisions and "clearer" in revisions
    upload = io.BytesIO(_png())
    upload.name = "diagram.png"
    assert client.post(f"{edit}images/", {"image": upload}).status_code == 302
    image = article.images.get()
    page = client.get(edit).content.decode()
    assert f"/kb/images/{image.pk}/diagrampng" in page
    # not public before it is published
    assert client.get(f"/kb/images/{image.pk}/diagrampng").status_code == 200  # staff
    client.logout()
    assert client.get(f"/kb/images/{image.pk}/diagrampng").status_code == 404
    client.force_login(world.agent)
    for status in (ArticleStatus.REVIEW, ArticleStatus.PUBLISHED):
        assert client.post(f"{edit}status/", {"status": status}).status_code == 302
    client.logout()
    assert client.get(f"/kb/{article.slug}/").status_code == 200
    served = client.get(f"/kb/images/{image.pk}/diagrampng")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_list_shows_deflection_and_rival_staff_get_404(client, world):
    article = make_article(world, title="Internal fax", visibility="internal")
    client.force_login(world.agent)
    page = client.get("/console/kb/").content.decode()
    assert "Internal fax" in page and "Deflection" in page
    client.force_login(world.rival_agent)
    assert "Internal fax" not in client.get("/console/kb/").content.decode()
    assert client.get(f"/console/kb/{article.pk}/").status_code == 404
    client.force_login(world.alice.user)
    assert client.get("/console/kb/").status_code == 403


def test_reply_box_search_offers_links_to_published_articles(client, world):
    make_article(world, title="Fax line busy", body="Reseat the modem.")
    make_article(world, title="Draft modem", body="modem", published=False)
    ticket = make_ticket(world)
    client.force_login(world.agent)
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert 'hx-get="/console/kb/search/?box=id_body"' in page
    hits = client.get(
        "/console/kb/search/", {"q": "modem", "box": "id_body"}, HTTP_HX_REQUEST="true"
    )
    html = hits.content.decode()
    assert "Fax line busy" in html and "Draft modem" not in html and "<html" not in html
    assert 'data-kb-insert="/kb/fax-line-busy/"' in html


def test_a_solved_ticket_becomes_a_draft_from_the_console(client, world):
    ticket = make_ticket(world, subject="Fax stuck", body="Queue never drains.")
    client.force_login(world.agent)
    assert b"Turn into a draft article" not in client.get(f"/console/tickets/{ticket.ref}/").content
    assert client.post(f"/console/kb/from-ticket/{ticket.ref}/").status_code == 409
    ticket_services.ticket_status_change(
        ticket=ticket, principal=principal_for(world.agent), status=Status.RESOLVED, now=NOW
    )
    assert b"Turn into a draft article" in client.get(f"/console/tickets/{ticket.ref}/").content
    response = client.post(f"/console/kb/from-ticket/{ticket.ref}/")
    article = Article.objects.get(source_ticket=ticket)
    assert response["Location"] == f"/console/kb/{article.pk}/"
    assert article.status == "draft" and "Queue never drains." in article.body

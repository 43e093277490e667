"""K-1, K-2: the public knowledge base, the portal's, and suggestions on the new-ticket form."""

from __future__ import annotations

import re

import pytest

from supportdesk.kb.models import Suggestion, SuggestionVisit
from supportdesk.kb.selectors import kb_deflection_summary
from supportdesk.kb.tests.kb_helpers import make_article
from supportdesk.tickets.models import Ticket
from tests.factories import NOW

pytestmark = pytest.mark.django_db


def test_a_public_article_is_readable_without_login_with_title_and_meta(client, world):
    article = make_article(
        world, title="Fax line busy", summary="What to do when every fax line is busy."
    )
    index = client.get("/kb/")
    assert index.status_code == 200 and b"Fax line busy" in index.content
    page = client.get(f"/kb/{article.slug}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Restart the modem pool." in html
    assert "<title>Fax line busy · Knowledge base</title>" in html
    assert '<meta name="description" content="What to do when every fax line is busy.">' in html
    assert re.search(rf'<link rel="canonical" href="http://[^"]+/kb/{article.slug}/">', html)
    article.refresh_from_db()
    assert article.view_count == 1


@pytest.mark.parametrize("visibility", ["customers", "entitled", "internal"])
def test_other_articles_answer_404_to_an_anonymous_visitor(client, world, visibility):
    article = make_article(world, title="Secret fax", body="faxword", visibility=visibility)
    assert client.get(f"/kb/{article.slug}/").status_code == 404
    assert b"Secret fax" not in client.get("/kb/").content
    assert b"Secret fax" not in client.get("/kb/", {"q": "faxword"}).content
    assert client.post(f"/kb/{article.slug}/feedback/", {"helpful": "yes"}).status_code == 404


def test_drafts_answer_404_publicly(client, world):
    article = make_article(world, title="Draft fax", published=False)
    assert client.get(f"/kb/{article.slug}/").status_code == 404


def test_public_search_finds_by_body_word(client, world):
    make_article(world, title="Modem pool", body="Reseat the serial cable.")
    found = client.get("/kb/", {"q": "serial"}).content.decode()
    assert "Modem pool" in found and "<mark>serial</mark>" in found


def test_feedback_from_an_anonymous_reader(client, world):
    article = make_article(world)
    response = client.post(f"/kb/{article.slug}/feedback/", {"helpful": "yes"})
    assert response.status_code == 302 and response["Location"].endswith("?thanks=1")
    article.refresh_from_db()
    assert article.helpful_count == 1


def test_portal_kb_shows_customer_articles_but_never_internal_ones(client, world):
    make_article(world, title="Public fax", body="faxword")
    make_article(world, title="Customers fax", body="faxword", visibility="customers")
    internal = make_article(world, title="Internal fax", body="faxword", visibility="internal")
    make_article(world, title="Rival fax", body="faxword", vendor=world.other_vendor)
    client.force_login(world.alice.user)
    for page in (client.get("/portal/kb/"), client.get("/portal/kb/", {"q": "faxword"})):
        html = page.content.decode()
        assert "Public fax" in html and "Customers fax" in html
        assert "Internal fax" not in html and "Rival fax" not in html
    assert client.get(f"/portal/kb/{internal.slug}/").status_code == 404
    suggest = client.get("/portal/kb/suggest/", {"subject": "faxword", "kb_visit": "x" * 43})
    assert b"Customers fax" in suggest.content and b"Internal fax" not in suggest.content


def test_suggestions_while_typing_and_deflection(client, world):
    article = make_article(world, title="Fax line busy", body="Reseat the modem cable.")
    client.force_login(world.alice.user)
    form = client.get("/portal/tickets/new/").content.decode()
    token = re.search(r'name="kb_visit" value="([^"]+)"', form).group(1)
    assert 'hx-get="/portal/kb/suggest/"' in form
    shown = client.get("/portal/kb/suggest/", {"subject": "modem", "kb_visit": token})
    assert b"Fax line busy" in shown.content and b"<html" not in shown.content
    visit = SuggestionVisit.objects.get(token=token)
    assert visit.contact == world.alice
    opened = client.get(f"/portal/kb/{article.slug}/", {"from": token})
    assert opened.status_code == 200
    assert Suggestion.objects.get(visit=visit).opened_at is not None
    # a second form was shown suggestions too, and abandoned
    client.get("/portal/kb/suggest/", {"subject": "modem", "kb_visit": "y" * 43})
    data = {"subject": "Modem still dead", "body": "help", "priority": "P3", "kb_visit": token}
    assert client.post("/portal/tickets/new/", data).status_code == 302
    visit.refresh_from_db()
    assert visit.ticket == Ticket.objects.get(subject="Modem still dead")
    # another contact cannot record into this form
    client.force_login(world.bob.user)
    client.get(f"/portal/kb/{article.slug}/", {"from": "y" * 43})
    assert not Suggestion.objects.filter(visit__token="y" * 43, opened_at__isnull=False).exists()
    SuggestionVisit.objects.update(started_at=NOW)
    summary = kb_deflection_summary(vendor=world.vendor, since=NOW, now=NOW.replace(hour=23))
    assert (summary.visits, summary.opened, summary.submitted, summary.abandoned) == (2, 1, 1, 1)
    assert summary.rate == 0.5


def test_short_or_empty_subjects_suggest_nothing(client, world):
    make_article(world, title="Fax line busy")
    client.force_login(world.alice.user)
    response = client.get("/portal/kb/suggest/", {"subject": "fa", "kb_visit": "z" * 43})
    assert response.status_code == 200 and b"Fax" not in response.content
    assert not SuggestionVisit.objects.exists()

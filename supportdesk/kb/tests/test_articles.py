"""K-2: articles, revisions, workflow, visibility and search (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from supportdesk.contracts.services import LineInput
from supportdesk.contracts.tests.django_helpers import make_contract, make_product
from supportdesk.core.errors import Conflict, NotFound
from supportdesk.core.tenancy import principal_for
from supportdesk.kb import selectors, services
from supportdesk.kb.models import ArticleStatus
from supportdesk.kb.search import article_search, article_suggest
from supportdesk.kb.tests.kb_helpers import make_article
from supportdesk.tickets import services as ticket_services
from supportdesk.tickets.models import Status
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def _titles(hits):
    return {h.article.title for h in hits}


def test_search_finds_an_article_by_a_body_word_ranked_with_a_snippet(world):
    make_article(world, title="Modem pool", body="When the fax line is busy, reseat the cable.")
    make_article(world, title="Reseat everything", body="Reseat cards, then reseat cables.")
    make_article(world, title="Unrelated", body="Nothing to see.")
    hits, more = article_search(principal=None, text="reseat")
    assert hits[0].article.title == "Reseat everything"  # title weighs most
    assert _titles(hits) == {"Modem pool", "Reseat everything"} and not more
    modem = next(h for h in hits if h.article.title == "Modem pool")
    assert "<mark>reseat</mark>" in modem.snippet
    assert _titles(article_search(principal=None, text="cabl")[0]) == {
        "Modem pool", "Reseat everything"
    }  # fmt: skip


def test_search_respects_visibility_state_and_vendor(world):
    make_article(world, title="Public fax", body="faxword")
    make_article(world, title="Customers fax", body="faxword", visibility="customers")
    make_article(world, title="Internal fax", body="faxword", visibility="internal")
    make_article(world, title="Draft fax", body="faxword", published=False, visibility="public")
    make_article(world, title="Rival fax", body="faxword", vendor=world.other_vendor)
    anonymous = _titles(
        article_search(principal=None, text="faxword", vendor_id=world.vendor.pk)[0]
    )
    assert anonymous == {"Public fax"}
    alice = _titles(article_search(principal=world.principal(world.alice), text="faxword")[0])
    assert alice == {"Public fax", "Customers fax"}
    staff = _titles(article_search(principal=principal_for(world.agent), text="faxword")[0])
    assert staff == {"Public fax", "Customers fax", "Internal fax", "Draft fax"}
    rex = _titles(article_search(principal=world.principal(world.rex), text="faxword")[0])
    assert rex == {"Rival fax"}


def test_entitled_articles_need_an_active_contract_for_the_product(world):
    product = make_product(world.vendor, name="FaxRoute Server")
    make_article(world, title="Entitled", body="faxword", visibility="entitled", products=[product])
    make_article(world, title="Any customer", body="faxword", visibility="entitled")
    alice = world.principal(world.alice)
    assert _titles(article_search(principal=alice, text="faxword")[0]) == {"Any customer"}
    with pytest.raises(NotFound):
        selectors.article_get(principal=alice, slug="entitled", now=NOW)
    contract = make_contract(
        world.acme, "enterprise",
        lines=[LineInput(kind="licence", quantity=1, unit_price="1000", product=product)],
    )  # fmt: skip
    assert contract.lines.filter(product=product).exists()
    entitled = selectors.entitled_product_ids(principal=alice, now=NOW)
    found = article_search(principal=alice, text="faxword", entitled=entitled)[0]
    assert _titles(found) == {"Entitled", "Any customer"}
    assert selectors.article_get(principal=alice, slug="entitled", now=NOW).title == "Entitled"
    gina = world.principal(world.gina)
    gina_found = article_search(
        principal=gina, text="faxword",
        entitled=selectors.entitled_product_ids(principal=gina, now=NOW),
    )[0]  # fmt: skip
    assert _titles(gina_found) == {"Any customer"}


def test_revisions_keep_author_and_diff_and_search_follows_edits(world):
    article = make_article(world, body="Old words here.", published=False)
    services.article_update(
        principal=principal_for(world.engineer), article=article, body="New words here.",
        note="reworded", now=NOW,
    )  # fmt: skip
    revisions = selectors.revision_list(article=article)
    assert [r.number for r in revisions] == [2, 1]
    assert revisions[0].author_id == world.engineer.pk and revisions[0].note == "reworded"
    assert "-Old words here." in revisions[0].diff and "+New words here." in revisions[0].diff
    staff = principal_for(world.agent)
    assert _titles(article_search(principal=staff, text="new")[0]) == {article.title}
    assert article_search(principal=staff, text="old")[0] == []
    # an edit that changes neither title nor body is no revision
    services.article_update(principal=staff, article=article, summary="Short.", now=NOW)
    assert len(selectors.revision_list(article=article)) == 2


def test_workflow_draft_review_publish_and_back(world):
    article = make_article(world, published=False)
    staff = principal_for(world.agent)
    assert selectors.article_list(principal=None, now=NOW) == []
    for status in (ArticleStatus.REVIEW, ArticleStatus.PUBLISHED):
        article = services.article_status_change(
            principal=staff, article=article, status=status, now=NOW
        )
    assert article.published_at == NOW
    assert [a.pk for a in selectors.article_list(principal=None, now=NOW)] == [article.pk]
    with pytest.raises(Conflict):
        services.article_status_change(
            principal=staff, article=article, status=ArticleStatus.REVIEW, now=NOW
        )


def test_markdown_is_rendered_and_sanitised(world):
    article = make_article(
        world, body="**Bold** <script>alert(1)</script> [x](javascript:alert(1)) "
        "![i](https://tracker.example/p.png)",
    )  # fmt: skip
    assert "<strong>Bold</strong>" in article.body_html
    assert "<script" not in article.body_html and 'href="javascript' not in article.body_html
    assert "tracker.example" not in article.body_html


def test_a_solved_ticket_becomes_an_internal_draft(world):
    ticket = make_ticket(world, subject="Fax stuck in queue", body="Faxes wait forever.")
    staff = principal_for(world.agent)
    with pytest.raises(Conflict):  # still open
        services.article_from_ticket(principal=staff, ticket=ticket, now=NOW)
    ticket = ticket_services.ticket_status_change(
        ticket=ticket, principal=staff, status=Status.RESOLVED, now=NOW
    )
    article = services.article_from_ticket(principal=staff, ticket=ticket, now=NOW)
    assert (article.title, article.status, article.visibility) == (
        "Fax stuck in queue", "draft", "internal",
    )  # fmt: skip
    assert "Faxes wait forever." in article.body and article.source_ticket_id == ticket.pk


def test_feedback_and_views_are_counted(world):
    article = make_article(world)
    services.article_view_record(article=article)
    services.article_feedback_record(article=article, helpful=True, contact=None, now=NOW)
    services.article_feedback_record(article=article, helpful=False, contact=world.alice, now=NOW)
    article.refresh_from_db()
    assert (article.view_count, article.helpful_count, article.unhelpful_count) == (1, 1, 1)


def test_rival_staff_cannot_edit(world):
    article = make_article(world)
    with pytest.raises(Exception) as info:
        services.article_update(
            principal=principal_for(world.rival_agent), article=article, title="x", now=NOW
        )
    assert getattr(info.value, "status", None) == 403


def test_suggestions_for_a_subject_rank_by_shared_words_and_respect_visibility(world):
    make_article(world, title="Modem pool restart", body="Reseat the modem cable.")
    make_article(world, title="Modem dropping calls", body="Dropping lines: check the modem.")
    make_article(world, title="DSE modem notes", body="modem dropping", visibility="internal")
    alice = world.principal(world.alice)
    hits = article_suggest(principal=alice, text="The modem keeps dropping")
    assert [h.article.title for h in hits] == ["Modem dropping calls", "Modem pool restart"]
    assert article_suggest(principal=alice, text="the and with") == []

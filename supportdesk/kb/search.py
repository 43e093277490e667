"""Article search (K-2): title, summary and body, ranked, with a highlighted snippet, and only
what the reader may see (domain.visibility), on SQLite FTS5 and PostgreSQL tsvector alike
(core.search).

`article_search_sync` is called by the services that write an article, in their transaction;
`article_search` is the selector the public pages, the portal, the console and the API use.
"""


# Table names and placeholders only are formatted into SQL here; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.safestring import SafeString

from supportdesk.core.queries import in_placeholders
from supportdesk.core.search import FullTextIndex, query_terms, snippet
from supportdesk.core.tenancy import Principal
from supportdesk.kb.domain.markdown import plain_text
from supportdesk.kb.domain.visibility import Reader
from supportdesk.kb.models import Article, ArticleSearchDocument, ArticleStatus, Visibility

INDEX = FullTextIndex(
    table="kb_articlesearchdocument",
    key="article_id",
    columns=(("title", "A"), ("summary", "B"), ("body", "C")),
)
COLUMNS = ("title", "summary", "body")
BATCH = 500


def _document(article: Article) -> dict[str, Any]:
    return {
        "article_id": article.pk,
        "vendor_id": article.vendor_id,
        "visibility": article.visibility,
        "published": article.status == ArticleStatus.PUBLISHED,
        "title": article.title,
        "summary": article.summary,
        "body": plain_text(article.body_html),
    }


def article_search_sync(*, articles: Iterable[Article], fresh: bool = False) -> None:
    """Bring the search documents of these articles in step with them (inside the caller's
    transaction). `fresh`: they were just created and have no document yet."""
    rows = [_document(a) for a in articles]
    INDEX.write(rows, fresh=fresh)


def article_search_reindex() -> int:
    """Rebuild every article's document and the index."""
    ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            article_search_sync(articles=Article.objects.filter(pk__in=ids[start : start + BATCH]))
    INDEX.rebuild()
    return len(ids)


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    snippet: SafeString
    rank: float


def reader_of(principal: Principal | None) -> Reader:
    if principal is None:
        return Reader.ANONYMOUS
    return Reader.CONTACT if principal.is_contact else Reader.STAFF


def visibility_conditions(
    principal: Principal | None, *, entitled: Iterable[int], vendor_id: int | None = None
) -> list[tuple[str, list[Any]]] | None:
    """Conditions on the document table (aliased `d`) for what the reader may see; None:
    nothing. Outside the console only published articles are found."""
    reader = reader_of(principal)
    where: list[tuple[str, list[Any]]] = []
    if principal is not None and principal.vendor_id is not None:
        where.append(("d.vendor_id = %s", [principal.vendor_id]))
    elif principal is not None and not principal.is_superuser:
        return None
    elif vendor_id is not None:
        where.append(("d.vendor_id = %s", [vendor_id]))
    if reader is Reader.STAFF:
        return where
    where.append(("d.published = %s", [True]))
    if reader is Reader.ANONYMOUS:
        where.append(("d.visibility = %s", [Visibility.PUBLIC.value]))
        return where
    products = sorted(set(entitled))
    marks = in_placeholders(products)
    entitled_sql = (
        "d.visibility IN (%s, %s) OR (d.visibility = %s AND (NOT EXISTS (SELECT 1 FROM "
        "kb_article_products p WHERE p.article_id = d.article_id) OR d.article_id IN "
        f"(SELECT p.article_id FROM kb_article_products p WHERE p.product_id IN ({marks}))))"
    )
    values = [Visibility.PUBLIC.value, Visibility.CUSTOMERS.value, Visibility.ENTITLED.value]
    where.append((entitled_sql, [*values, *products]))
    return where


def article_search(
    *,
    principal: Principal | None,
    text: str,
    entitled: Iterable[int] = (),
    vendor_id: int | None = None,
    published_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[ArticleHit], bool]:
    """One ranked page of the articles the reader may see that match `text`, and whether more
    follow. `entitled`: the products the contact's organisation has an active contract for
    (selectors.entitled_product_ids). Staff find their vendor's drafts too unless
    `published_only` (a link inserted into a reply must open for the customer)."""
    where = visibility_conditions(principal, entitled=entitled, vendor_id=vendor_id)
    if where is None:
        return [], False
    if published_only and reader_of(principal) is Reader.STAFF:
        where.append(("d.published = %s", [True]))
    terms = query_terms(text)
    found = INDEX.search(terms=terms, visible=COLUMNS, where=where, limit=limit + 1, offset=offset)
    more = len(found) > limit
    return _hits(found[:limit], terms), more


# Words too common in a ticket subject to suggest an article by themselves.
_SUBJECT_NOISE = frozenset({
    "a", "an", "and", "are", "can", "cannot", "does", "for", "from", "how", "i", "in", "is",
    "it", "my", "not", "of", "on", "or", "our", "the", "to", "we", "what", "when", "why",
    "will", "with",
})  # fmt: skip


def article_suggest(
    *, principal: Principal, text: str, entitled: Iterable[int] = (), limit: int = 5
) -> list[ArticleHit]:
    """Articles for a ticket subject as it is typed: those matching every word first, then
    those matching the most of its words (a subject is a sentence, not a query, so requiring
    every word would rarely find anything). One indexed search per word, at most 8 words."""
    where = visibility_conditions(principal, entitled=entitled)
    if where is None:
        return []
    where.append(("d.published = %s", [True]))
    terms = [t for t in query_terms(text) if t not in _SUBJECT_NOISE and len(t) > 1]
    if not terms:
        return []
    scores: dict[int, tuple[int, float]] = {}
    for key, rank in INDEX.search(terms=terms, visible=COLUMNS, where=where, limit=limit):
        scores[key] = (len(terms) + 1, rank)
    if len(scores) < limit and len(terms) > 1:
        for term in terms:
            for key, rank in INDEX.search(terms=[term], visible=COLUMNS, where=where, limit=limit):
                count, total = scores.get(key, (0, 0.0))
                if count <= len(terms):
                    scores[key] = (count + 1, total + rank)
    best = sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)[:limit]
    return _hits([(key, rank) for key, (_, rank) in best], terms)


def _hits(found: list[tuple[int, float]], terms: list[str]) -> list[ArticleHit]:
    ids = [key for key, _ in found]
    articles = Article.objects.select_related("category").in_bulk(ids)
    docs = ArticleSearchDocument.objects.in_bulk(ids)
    hits = []
    for key, rank in found:
        article, doc = articles.get(key), docs.get(key)
        if article is None or doc is None:
            continue
        texts = [doc.body, doc.summary, doc.title]
        hits.append(ArticleHit(article=article, snippet=snippet(texts, terms), rank=rank))
    return hits

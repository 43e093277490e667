"""/api/v1/articles (K-2): list and search what the principal may read; staff create and
update their vendor's articles. An article the principal may not read answers 404, exactly
like one that does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Id
from supportdesk.contracts.models import Product, ProductVersion
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.kb import selectors, services
from supportdesk.kb.domain.markdown import BODY_MAX_CHARS
from supportdesk.kb.models import Article, ArticleCategory
from supportdesk.kb.search import article_search

router = Router(tags=["articles"])

VisibilityName = Literal["public", "customers", "entitled", "internal"]
StatusName = Literal["draft", "review", "published"]
SLUG = r"^[-a-zA-Z0-9_]*$"


class ArticleQuery(Schema):
    q: str = Field("", max_length=200, description="Words to search for; ranked results.")
    status: StatusName | None = Field(None, description="Staff: only articles in this state.")
    limit: int = Field(20, ge=1, le=100)


class ArticleIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=BODY_MAX_CHARS, description="Markdown.")
    summary: str = Field("", max_length=300)
    slug: str = Field("", max_length=100, pattern=SLUG)
    visibility: VisibilityName = "internal"
    category: str = Field("", max_length=120, description="A category name; made if new.")
    products: list[Id] = Field([], max_length=50)
    versions: list[Id] = Field([], max_length=50)


class ArticlePatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=BODY_MAX_CHARS)
    summary: str | None = Field(None, max_length=300)
    slug: str | None = Field(None, max_length=100, pattern=SLUG)
    visibility: VisibilityName | None = None
    category: str | None = Field(None, max_length=120, description="'' removes the category.")
    products: list[Id] | None = Field(None, max_length=50)
    versions: list[Id] | None = Field(None, max_length=50)
    status: StatusName | None = None
    note: str = Field("", max_length=200, description="What changed (kept with the revision).")


class ArticleOut(Schema):
    id: int
    slug: str
    title: str
    summary: str
    visibility: str
    status: str
    category: str | None
    products: list[int]
    url: str
    body: str
    body_html: str
    views: int
    helpful: int
    unhelpful: int
    updated_at: datetime
    published_at: datetime | None


class ArticleItem(Schema):
    id: int
    slug: str
    title: str
    summary: str
    visibility: str
    status: str
    url: str
    snippet: str | None
    updated_at: datetime


class ArticlePage(Schema):
    items: list[ArticleItem]
    more: bool


def _url(article: Article) -> str:
    name = "kb-article" if article.visibility == "public" else "portal:kb-article"
    return absolute_url(reverse(name, kwargs={"slug": article.slug}))


def _item(article: Article, snippet: str | None) -> dict[str, Any]:
    return {
        "id": article.pk, "slug": article.slug, "title": article.title,
        "summary": article.summary, "visibility": article.visibility, "status": article.status,
        "url": _url(article), "snippet": snippet, "updated_at": article.updated_at,
    }  # fmt: skip


def _out(article: Article) -> dict[str, Any]:
    return {
        **_item(article, None),
        "category": article.category.name if article.category else None,
        "products": sorted(article.products.values_list("pk", flat=True)),
        "body": article.body, "body_html": article.body_html, "views": article.view_count,
        "helpful": article.helpful_count, "unhelpful": article.unhelpful_count,
        "published_at": article.published_at,
    }  # fmt: skip


def _staff_vendor(principal: Principal) -> Vendor:
    if not principal.is_staff:
        raise Forbidden("only staff may write articles")
    if principal.vendor_id is None:
        raise InvalidInput("this user belongs to no vendor; write articles as vendor staff")
    return Vendor.objects.get(pk=principal.vendor_id)


def _products(vendor: Vendor, ids: Sequence[int]) -> list[Product]:
    found = list(Product.objects.filter(vendor=vendor, pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise NotFound("no such product")
    return found


def _versions(vendor: Vendor, ids: Sequence[int]) -> list[ProductVersion]:
    found = list(ProductVersion.objects.filter(product__vendor=vendor, pk__in=set(ids)))
    if len(found) != len(set(ids)):
        raise NotFound("no such product version")
    return found


def _category(principal: Principal, vendor: Vendor, name: str) -> ArticleCategory | None:
    if not name.strip():
        return None
    return services.category_create(principal=principal, vendor=vendor, name=name)


@router.get("/articles", response={200: ArticlePage, **ERRORS})
def list_articles(request: HttpRequest, query: Query[ArticleQuery]) -> Any:
    principal = principal_of(request)
    now = clock.now()
    if query.q.strip():
        entitled = selectors.entitled_product_ids(principal=principal, now=now)
        hits, more = article_search(
            principal=principal, text=query.q, entitled=entitled, limit=query.limit
        )
        if query.status:
            hits = [h for h in hits if h.article.status == query.status]
        return {"items": [_item(h.article, str(h.snippet)) for h in hits], "more": more}
    articles = selectors.article_list(
        principal=principal, now=now, status=query.status, limit=query.limit + 1
    )
    more = len(articles) > query.limit
    return {"items": [_item(a, None) for a in articles[: query.limit]], "more": more}


@router.post("/articles", response={201: ArticleOut, **ERRORS})
def create_article(request: HttpRequest, payload: ArticleIn) -> Any:
    principal = principal_of(request)
    vendor = _staff_vendor(principal)
    article = services.article_create(
        principal=principal, vendor=vendor, title=payload.title, body=payload.body,
        summary=payload.summary, slug=payload.slug, visibility=payload.visibility,
        category=_category(principal, vendor, payload.category),
        products=_products(vendor, payload.products),
        versions=_versions(vendor, payload.versions), now=clock.now(),
    )  # fmt: skip
    return Status(201, _out(article))


@router.get("/articles/{int:article_id}", response={200: ArticleOut, **ERRORS})
def get_article(request: HttpRequest, article_id: int) -> Any:
    principal = principal_of(request)
    if principal.is_staff:
        article = selectors.article_get_for_staff(principal=principal, article_id=article_id)
    else:
        article = selectors.article_get(principal=principal, article_id=article_id, now=clock.now())
    return _out(article)


@router.patch("/articles/{int:article_id}", response={200: ArticleOut, **ERRORS})
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatch) -> Any:
    principal = principal_of(request)
    article = selectors.article_get_for_staff(principal=principal, article_id=article_id)
    vendor = article.vendor
    now = clock.now()
    changes: dict[str, Any] = {
        "title": payload.title, "body": payload.body, "summary": payload.summary,
        "slug": payload.slug, "visibility": payload.visibility,
        "products": None if payload.products is None else _products(vendor, payload.products),
        "versions": None if payload.versions is None else _versions(vendor, payload.versions),
    }  # fmt: skip
    if payload.category is not None:
        changes["category"] = _category(principal, vendor, payload.category)
    article = services.article_update(
        principal=principal, article=article, note=payload.note, now=now, **changes
    )
    if payload.status is not None:
        article = services.article_status_change(
            principal=principal, article=article, status=payload.status, now=now
        )
    return _out(article)

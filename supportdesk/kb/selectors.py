"""Reads of the knowledge base (K-2). Every selector a customer or an anonymous visitor can
reach takes the principal (None: not signed in) and shows only what it may read."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from supportdesk.contracts.models import ContractLine, ContractState
from supportdesk.contracts.selectors import vendor_today
from supportdesk.core.errors import NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.kb.domain.deflection import Deflection, VisitFacts, deflection
from supportdesk.kb.domain.visibility import ArticleFacts, Reader, may_read
from supportdesk.kb.models import (
    Article,
    ArticleCategory,
    ArticleImage,
    ArticleRevision,
    ArticleStatus,
    Suggestion,
    SuggestionVisit,
    Visibility,
)
from supportdesk.kb.search import reader_of


def entitled_product_ids(*, principal: Principal | None, now: datetime) -> frozenset[int]:
    """The products the contact's organisation holds an active contract for today (a
    contract line naming the product, in an active term); empty for anyone else."""
    if principal is None or not principal.is_contact or principal.vendor_id is None:
        return frozenset()
    today: date = vendor_today(principal.vendor_id, now)
    lines = ContractLine.objects.filter(
        contract__organization_id=principal.organization_id,
        contract__state=ContractState.ACTIVE,
        contract__start__lte=today,
        contract__end__gt=today,
        product__isnull=False,
    )
    return frozenset(lines.values_list("product_id", flat=True))


def _readable(
    qs: QuerySet[Article], principal: Principal | None, entitled: frozenset[int]
) -> QuerySet[Article]:
    """The ORM twin of search.visibility_conditions (the same rule, domain.visibility)."""
    reader = reader_of(principal)
    if principal is not None:
        if principal.vendor_id is not None:
            qs = qs.filter(vendor_id=principal.vendor_id)
        elif not principal.is_superuser:
            return qs.none()
    if reader is Reader.STAFF:
        return qs
    qs = qs.filter(status=ArticleStatus.PUBLISHED)
    if reader is Reader.ANONYMOUS:
        return qs.filter(visibility=Visibility.PUBLIC)
    has_products = Exists(Article.products.through.objects.filter(article_id=OuterRef("pk")))
    holds = Exists(
        Article.products.through.objects.filter(
            article_id=OuterRef("pk"), product_id__in=sorted(entitled)
        )
    )
    return qs.filter(
        Q(visibility__in=[Visibility.PUBLIC, Visibility.CUSTOMERS])
        | Q(visibility=Visibility.ENTITLED) & (~has_products | holds)
    )


def article_list(
    *,
    principal: Principal | None,
    now: datetime,
    category: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Article]:
    """The articles the reader may see, newest first; staff see every state of their vendor's
    articles (narrowed by `status`)."""
    entitled = entitled_product_ids(principal=principal, now=now)
    qs = _readable(Article.objects.select_related("category", "author"), principal, entitled)
    if category:
        qs = qs.filter(category__slug=category)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-updated_at", "-pk")[:limit])


def article_get(
    *,
    principal: Principal | None,
    now: datetime,
    slug: str | None = None,
    article_id: int | None = None,
) -> Article:
    """One article the reader may read, else NotFound (never Forbidden: an article the reader
    may not see does not exist for them)."""
    qs = Article.objects.select_related("category", "author", "vendor")
    found = qs.filter(slug=slug).first() if slug is not None else qs.filter(pk=article_id).first()
    if found is None:
        raise NotFound("no such article")
    reader = reader_of(principal)
    if principal is not None and principal.vendor_id not in (None, found.vendor_id):
        raise NotFound("no such article")
    if principal is not None and principal.vendor_id is None and not principal.is_superuser:
        raise NotFound("no such article")
    entitled = entitled_product_ids(principal=principal, now=now)
    facts = ArticleFacts(
        visibility=found.visibility,
        published=found.status == ArticleStatus.PUBLISHED,
        product_ids=frozenset(found.products.values_list("pk", flat=True)),
    )
    if not may_read(facts, reader, entitled=entitled):
        raise NotFound("no such article")
    return found


def article_get_for_staff(*, principal: Principal, article_id: int) -> Article:
    """An article of the staff member's vendor, in any state (console, API writes)."""
    if not principal.is_staff:
        raise NotFound("no such article")
    qs = Article.objects.select_related("category", "author").filter(pk=article_id)
    if not principal.is_superuser or principal.vendor_id is not None:
        qs = qs.filter(vendor_id=principal.vendor_id)
    article = qs.first()
    if article is None:
        raise NotFound("no such article")
    return article


def revision_list(*, article: Article) -> list[ArticleRevision]:
    return list(article.revisions.select_related("author"))


def category_list(*, vendor_id: int) -> list[ArticleCategory]:
    return list(ArticleCategory.objects.filter(vendor_id=vendor_id))


def image_get(*, principal: Principal | None, image_id: int, now: datetime) -> ArticleImage:
    """An image of an article the reader may read."""
    image = ArticleImage.objects.filter(pk=image_id).select_related("article").first()
    if image is None:
        raise NotFound("no such image")
    if principal is not None and principal.is_staff:
        article_get_for_staff(principal=principal, article_id=image.article_id)
    else:
        article_get(principal=principal, article_id=image.article_id, now=now)
    return image


def kb_deflection_summary(*, vendor: Vendor, since: datetime, now: datetime) -> Deflection:
    """Portal new-ticket forms since `since` that were shown suggestions: how many opened one,
    submitted a ticket, or gave up (domain.deflection)."""
    opened = Suggestion.objects.filter(visit_id=OuterRef("pk"), opened_at__isnull=False)
    visits = (
        SuggestionVisit.objects.filter(vendor=vendor, started_at__gte=since)
        .filter(Exists(Suggestion.objects.filter(visit_id=OuterRef("pk"))))
        .annotate(opened_any=Exists(opened))
        .values_list("started_at", "submitted_at", "opened_any")
    )
    return deflection(
        (
            VisitFacts(started, submitted is not None, bool(any_))
            for started, submitted, any_ in visits
        ),
        now=now,
    )


def article_deflection_rows(*, vendor: Vendor, since: datetime, limit: int = 20) -> list[dict]:
    """Per article: how often it was suggested and opened since `since`, most shown first."""
    rows = (
        Suggestion.objects.filter(visit__vendor=vendor, shown_at__gte=since)
        .values("article_id", "article__title", "article__slug")
        .annotate(shown=Count("pk"), opened=Count("opened_at"))
        .order_by("-shown", "article_id")[:limit]
    )
    return list(rows)

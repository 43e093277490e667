"""Demo knowledge base (K-2): the preset's articles through the services, with a revision and
the workflow, so that the demo shows public, customers-only, contract-only and internal
articles. Called by `demo.load._load_vendor` after the products, staff and contracts exist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.accounts.models import User
from supportdesk.contracts.models import Product, ProductVersion
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.kb import services
from supportdesk.kb.models import ArticleStatus


def demo_extend(*, vendor: Vendor, articles: list[dict[str, Any]], now: datetime) -> None:
    if not articles:
        return
    author = User.objects.filter(vendor=vendor, is_staff=True).order_by("pk").first()
    assert author is not None
    principal = principal_for(author)
    for item in articles:
        product = Product.objects.filter(vendor=vendor, name=item.get("product", "")).first()
        versions = list(
            ProductVersion.objects.filter(product=product, version__in=item.get("versions", []))
        )
        category = services.category_create(
            principal=principal, vendor=vendor, name=item["category"]
        )
        article = services.article_create(
            principal=principal, vendor=vendor, title=item["title"], body=item["body"],
            summary=item.get("summary", ""), visibility=item["visibility"], category=category,
            products=[product] if product else [], versions=versions, now=now,
        )  # fmt: skip
        status = item.get("status", ArticleStatus.PUBLISHED)
        if status != ArticleStatus.DRAFT:
            services.article_status_change(
                principal=principal, article=article, status=ArticleStatus.REVIEW, now=now
            )
        if status == ArticleStatus.PUBLISHED:
            services.article_status_change(
                principal=principal, article=article, status=status, now=now
            )

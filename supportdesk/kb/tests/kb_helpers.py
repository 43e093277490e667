"""Articles for the knowledge-base tests, made through the services."""

from __future__ import annotations

from typing import Any

from supportdesk.contracts.models import Product
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.kb import services
from supportdesk.kb.models import Article, ArticleStatus
from tests.factories import NOW


def make_article(
    world: Any,
    *,
    title: str = "Fax line busy",
    body: str = "Restart the modem pool.",
    visibility: str = "public",
    published: bool = True,
    vendor: Vendor | None = None,
    products: list[Product] | None = None,
    summary: str = "",
) -> Article:
    vendor = vendor or world.vendor
    staff = world.agent if vendor.pk == world.vendor.pk else world.rival_agent
    principal = principal_for(staff)
    article = services.article_create(
        principal=principal, vendor=vendor, title=title, body=body, summary=summary,
        visibility=visibility, products=products or [], now=NOW,
    )  # fmt: skip
    if published:
        article = services.article_status_change(
            principal=principal, article=article, status=ArticleStatus.PUBLISHED, now=NOW
        )
    return article

"""Every write of the knowledge base (K-2): articles and their revisions, images, feedback,
views, and the portal's suggestion log (deflection). Each write keeps the search document in
step in its own transaction (search.article_search_sync)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from supportdesk.contracts.models import Product, ProductVersion
from supportdesk.core.errors import Conflict, InvalidInput, NotFound, TooLarge
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Contact
from supportdesk.kb.domain.markdown import BODY_MAX_CHARS, IMAGE_PREFIX, render
from supportdesk.kb.domain.revisions import revision_diff
from supportdesk.kb.domain.workflow import may_move
from supportdesk.kb.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleImage,
    ArticleRevision,
    ArticleStatus,
    Suggestion,
    SuggestionVisit,
    Visibility,
)
from supportdesk.kb.search import article_search_sync
from supportdesk.tickets.domain.content import INLINE_SAFE_TYPES, sniff_content_type
from supportdesk.tickets.models import MessageKind, Ticket
from supportdesk.tickets.services_portal import DONE_STATUSES

TITLE_MAX = 200
# Slugs that would shadow a page under /kb/ or /portal/kb/.
RESERVED_SLUGS = frozenset({"suggest", "images", "new", "search"})
SUMMARY_MAX = 300


def _clean_text(title: str, body: str, summary: str) -> tuple[str, str, str]:
    title, summary = " ".join(title.split()), " ".join(summary.split())
    if not title:
        raise InvalidInput("title: required")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"title: at most {TITLE_MAX} characters")
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput(f"summary: at most {SUMMARY_MAX} characters")
    if len(body) > BODY_MAX_CHARS:
        raise InvalidInput(f"body: at most {BODY_MAX_CHARS} characters")
    return title, body, summary


def _unique_slug(title: str, *, wanted: str = "", exclude: int | None = None) -> str:
    base = slugify(wanted or title)[:100] or "article"
    slug, n = base, 1
    taken = Article.objects.exclude(pk=exclude) if exclude else Article.objects.all()
    while slug in RESERVED_SLUGS or taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _check_refs(
    vendor_id: int,
    category: ArticleCategory | None,
    products: Sequence[Product],
    versions: Sequence[ProductVersion],
) -> None:
    if category is not None and category.vendor_id != vendor_id:
        raise NotFound("no such category")
    if any(p.vendor_id != vendor_id for p in products):
        raise NotFound("no such product")
    if any(v.product.vendor_id != vendor_id for v in versions):
        raise NotFound("no such product version")


def _revise(article: Article, *, principal: Principal, note: str, now: datetime) -> None:
    last = article.revisions.order_by("-number").first()
    if last is not None and (last.title, last.body) == (article.title, article.body):
        return
    ArticleRevision.objects.create(
        article=article,
        number=(last.number + 1) if last else 1,
        title=article.title,
        body=article.body,
        diff=revision_diff(
            before_title=last.title if last else "",
            before=last.body if last else "",
            after_title=article.title,
            after=article.body,
        ),
        note=note[:200],
        author_id=principal.user_id,
        created_at=now,
    )


@transaction.atomic
def article_create(
    *,
    principal: Principal,
    vendor: Vendor,
    title: str,
    body: str,
    now: datetime,
    summary: str = "",
    slug: str = "",
    category: ArticleCategory | None = None,
    products: Sequence[Product] = (),
    versions: Sequence[ProductVersion] = (),
    visibility: str = Visibility.INTERNAL,
    source_ticket: Ticket | None = None,
) -> Article:
    """A new draft article, its first revision and its search document."""
    require_staff_of(principal, vendor.pk)
    title, body, summary = _clean_text(title, body, summary)
    if visibility not in Visibility.values:
        raise InvalidInput(f"visibility: one of {', '.join(Visibility.values)}")
    _check_refs(vendor.pk, category, products, versions)
    article = Article.objects.create(
        vendor=vendor,
        slug=_unique_slug(title, wanted=slug),
        title=title,
        summary=summary,
        body=body,
        body_html=render(body),
        category=category,
        visibility=visibility,
        status=ArticleStatus.DRAFT,
        author_id=principal.user_id,
        source_ticket=source_ticket,
        created_at=now,
        updated_at=now,
    )
    article.products.set(products)
    article.versions.set(versions)
    _revise(article, principal=principal, note="created", now=now)
    article_search_sync(articles=[article], fresh=True)
    return article


_UNSET = object()


@transaction.atomic
def article_update(
    *,
    principal: Principal,
    article: Article,
    now: datetime,
    title: str | None = None,
    body: str | None = None,
    summary: str | None = None,
    slug: str | None = None,
    category: ArticleCategory | object | None = _UNSET,
    products: Sequence[Product] | None = None,
    versions: Sequence[ProductVersion] | None = None,
    visibility: str | None = None,
    note: str = "",
) -> Article:
    """Change an article; a change of title or body is a new revision (author and diff).
    Takes a row lock on the article so that two editors' revisions are numbered in turn."""
    require_staff_of(principal, article.vendor_id)
    article = Article.objects.select_for_update().get(pk=article.pk)
    new_title, new_body, new_summary = _clean_text(
        article.title if title is None else title,
        article.body if body is None else body,
        article.summary if summary is None else summary,
    )
    if visibility is not None and visibility not in Visibility.values:
        raise InvalidInput(f"visibility: one of {', '.join(Visibility.values)}")
    new_category = article.category if category is _UNSET else category
    assert new_category is None or isinstance(new_category, ArticleCategory)
    _check_refs(article.vendor_id, new_category, products or (), versions or ())
    article.title, article.summary = new_title, new_summary
    if new_body != article.body:
        article.body, article.body_html = new_body, render(new_body)
    if slug:
        article.slug = _unique_slug(new_title, wanted=slug, exclude=article.pk)
    article.category = new_category
    if visibility is not None:
        article.visibility = visibility
    article.updated_at = now
    article.save()
    if products is not None:
        article.products.set(products)
    if versions is not None:
        article.versions.set(versions)
    _revise(article, principal=principal, note=note, now=now)
    article_search_sync(articles=[article])
    return article


@transaction.atomic
def article_status_change(
    *, principal: Principal, article: Article, status: str, now: datetime
) -> Article:
    """Move an article through draft -> review -> published (and back to draft)."""
    require_staff_of(principal, article.vendor_id)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if status == article.status:
        return article
    if not may_move(article.status, status):
        raise Conflict(f"an article in {article.status} cannot move to {status}")
    article.status = status
    if status == ArticleStatus.PUBLISHED:
        article.published_at = now
    article.updated_at = now
    article.save(update_fields=["status", "published_at", "updated_at"])
    article_search_sync(articles=[article])
    return article


def article_image_add(
    *, principal: Principal, article: Article, filename: str, data: bytes, now: datetime
) -> ArticleImage:
    """Store an image for the article's body (Django storage); the body refers to it as
    ![alt](/kb/images/<id>/<filename>)."""
    require_staff_of(principal, article.vendor_id)
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(data) > limit:
        raise TooLarge(f"image {filename!r} is {len(data)} bytes; limit {limit}")
    kind = sniff_content_type(data)
    if kind not in INLINE_SAFE_TYPES:
        raise InvalidInput("image: PNG, JPEG, GIF or WebP only")
    digest = hashlib.sha256(data).hexdigest()
    image = ArticleImage(
        article=article,
        filename=(filename or "image").replace("/", "_").replace("\\", "_")[-255:],
        content_type=kind,
        size=len(data),
        sha256=digest,
        created_at=now,
    )
    image.file.save(digest, ContentFile(data), save=False)
    image.save()
    return image


def image_markdown(image: ArticleImage) -> str:
    return f"![{image.filename}]({IMAGE_PREFIX}{image.pk}/{slugify(image.filename) or 'image'})"


def article_view_record(*, article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


@transaction.atomic
def article_feedback_record(
    *, article: Article, helpful: bool, contact: Contact | None, now: datetime
) -> None:
    """A "did this help?" answer (anonymous visitors too, on public articles)."""
    ArticleFeedback.objects.create(
        article=article, helpful=helpful, contact=contact, created_at=now
    )
    field = "helpful_count" if helpful else "unhelpful_count"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})


def article_from_ticket(*, principal: Principal, ticket: Ticket, now: datetime) -> Article:
    """A draft article from a solved ticket: its subject and public messages, internal, for an
    agent to rewrite before review. Names of people are left for the editor to remove."""
    require_staff_of(principal, ticket.vendor_id)
    if ticket.status not in DONE_STATUSES:
        raise Conflict("only a resolved or closed ticket becomes an article")
    messages = ticket.messages.filter(kind=MessageKind.PUBLIC).order_by("created_at", "pk")
    parts = [f"## Problem\n\n{ticket.subject}"]
    for number, text in enumerate(messages.values_list("body_text", flat=True), start=1):
        quoted = "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())
        parts.append(f"### Message {number}\n\n{quoted}")
    parts.append("## Solution\n\n(Write the answer here.)")
    return article_create(
        principal=principal,
        vendor=ticket.vendor,
        title=ticket.subject[:TITLE_MAX] or f"Ticket {ticket.ref}",
        body="\n\n".join(parts),
        summary="",
        visibility=Visibility.INTERNAL,
        products=[ticket.product] if ticket.product_id else [],
        source_ticket=ticket,
        now=now,
    )


# -- deflection: the portal's new-ticket form ------------------------------------------------


TOKEN_CHARS = 43


def suggestion_token() -> str:
    """The random token a new-ticket form carries (nothing is written until a suggestion is
    shown)."""
    return secrets.token_urlsafe(32)


def _visit(token: str, contact: Contact) -> SuggestionVisit | None:
    if len(token or "") != TOKEN_CHARS:
        return None
    return SuggestionVisit.objects.filter(token=token, contact=contact).first()


@transaction.atomic
def suggestions_shown(
    *, token: str, contact: Contact, articles: Sequence[Article], now: datetime
) -> None:
    """Record the articles suggested in the form `token` names (once each); the first
    suggestion starts the visit. A token another contact holds records nothing."""
    if not articles or len(token or "") != TOKEN_CHARS:
        return
    visit, _ = SuggestionVisit.objects.get_or_create(
        token=token,
        defaults={
            "vendor_id": contact.organization.vendor_id,
            "organization_id": contact.organization_id,
            "contact": contact,
            "started_at": now,
        },
    )
    if visit.contact_id != contact.pk or visit.submitted_at is not None:
        return
    Suggestion.objects.bulk_create(
        [Suggestion(visit=visit, article=a, shown_at=now) for a in articles],
        ignore_conflicts=True,
    )


def suggestion_opened(*, token: str, contact: Contact, article: Article, now: datetime) -> None:
    visit = _visit(token, contact)
    if visit is not None:
        Suggestion.objects.filter(visit=visit, article=article, opened_at__isnull=True).update(
            opened_at=now
        )


def suggestion_visit_submit(*, token: str, contact: Contact, ticket: Ticket, now: datetime) -> None:
    """The form ended in a ticket (not deflected)."""
    visit = _visit(token, contact)
    if visit is not None and visit.submitted_at is None:
        visit.ticket, visit.submitted_at = ticket, now
        visit.save(update_fields=["ticket", "submitted_at"])


def category_create(*, principal: Principal, vendor: Vendor, name: str) -> ArticleCategory:
    require_staff_of(principal, vendor.pk)
    name = " ".join(name.split())[:120]
    if not name:
        raise InvalidInput("name: required")
    category, _ = ArticleCategory.objects.get_or_create(
        vendor=vendor, slug=slugify(name)[:80] or "category", defaults={"name": name}
    )
    return category

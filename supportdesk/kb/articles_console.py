"""Console pages of the knowledge base (K-2), vendor staff only: the article list with the
deflection figures, editing, review and publishing, revisions, images, the reply box's
article search, and a solved ticket turned into a draft."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.core.web import staff_page
from supportdesk.kb import selectors, services
from supportdesk.kb.articles_forms import ArticleForm, ImageForm
from supportdesk.kb.domain.workflow import MOVES
from supportdesk.kb.models import Article, ArticleStatus
from supportdesk.kb.search import article_search
from supportdesk.tickets import selectors as ticket_selectors

DEFLECTION_DAYS = 30


def _vendor(principal: Principal) -> Vendor:
    if principal.vendor_id is None:
        raise InvalidInput("this user belongs to no vendor; manage articles as vendor staff")
    return Vendor.objects.get(pk=principal.vendor_id)


def _form_data(form: ArticleForm, principal: Principal, vendor: Vendor) -> dict[str, Any]:
    if not form.is_valid():
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        raise InvalidInput(problems)
    data = form.cleaned_data
    category = data["category"]
    if data["new_category"]:
        category = services.category_create(
            principal=principal, vendor=vendor, name=data["new_category"]
        )
    return {
        "title": data["title"],
        "slug": data["slug"],
        "summary": data["summary"],
        "body": data["body"],
        "visibility": data["visibility"],
        "category": category,
        "products": list(data["products"]),
        "versions": list(data["versions"]),
    }


@staff_page
def article_list_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    status = request.GET.get("status") or None
    if status not in ArticleStatus.values:
        status = None
    context: dict[str, Any] = {
        "articles": selectors.article_list(principal=principal, now=now, status=status, limit=500),
        "status": status or "",
        "statuses": ArticleStatus.choices,
        "days": DEFLECTION_DAYS,
    }
    if principal.vendor_id is not None:
        vendor = Vendor.objects.get(pk=principal.vendor_id)
        since = now - timedelta(days=DEFLECTION_DAYS)
        context["deflection"] = selectors.kb_deflection_summary(vendor=vendor, since=since, now=now)
        context["suggested"] = selectors.article_deflection_rows(vendor=vendor, since=since)
    return render(request, "kb/console_list.html", context)


@staff_page
def article_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    vendor = _vendor(principal)
    form = ArticleForm(request.POST or None, vendor_id=vendor.pk)
    if request.method == "POST":
        data = _form_data(form, principal, vendor)
        article = services.article_create(
            principal=principal, vendor=vendor, now=clock.now(), **data
        )
        return redirect("console:kb:edit", article_id=article.pk)
    return render(request, "kb/console_edit.html", {"form": form, "article": None})


@staff_page
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    article = selectors.article_get_for_staff(principal=principal, article_id=article_id)
    initial = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "visibility": article.visibility,
        "category": article.category_id,
        "products": list(article.products.values_list("pk", flat=True)),
        "versions": list(article.versions.values_list("pk", flat=True)),
    }
    form = ArticleForm(request.POST or None, initial=initial, vendor_id=article.vendor_id)
    if request.method == "POST":
        data = _form_data(form, principal, article.vendor)
        services.article_update(
            principal=principal, article=article, now=clock.now(),
            note=form.cleaned_data["note"], **data,
        )  # fmt: skip
        return redirect("console:kb:edit", article_id=article.pk)
    context = {
        "form": form,
        "article": article,
        "images": article.images.order_by("pk"),
        "image_form": ImageForm(),
        "moves": _moves(article),
    }
    return render(request, "kb/console_edit.html", context)


def _moves(article: Article) -> list[tuple[str, str]]:
    labels = {"draft": "Back to draft", "review": "Send for review", "published": "Publish"}
    return [(s, labels[s]) for s in ("review", "published", "draft") if s in MOVES[article.status]]


@require_POST
@staff_page
def article_status(request: HttpRequest, article_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    article = selectors.article_get_for_staff(principal=principal, article_id=article_id)
    status = request.POST.get("status", "")
    if status not in ArticleStatus.values:
        raise InvalidInput(f"status: one of {', '.join(ArticleStatus.values)}")
    services.article_status_change(
        principal=principal, article=article, status=status, now=clock.now()
    )
    return redirect("console:kb:edit", article_id=article.pk)


@require_POST
@staff_page
def article_image(request: HttpRequest, article_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    article = selectors.article_get_for_staff(principal=principal, article_id=article_id)
    form = ImageForm(request.POST, request.FILES)
    if not form.is_valid():
        raise InvalidInput("image: choose a PNG, JPEG, GIF or WebP file")
    upload = form.cleaned_data["image"]
    services.article_image_add(
        principal=principal, article=article, filename=upload.name or "image",
        data=upload.read(), now=clock.now(),
    )  # fmt: skip
    return redirect("console:kb:edit", article_id=article.pk)


@require_GET
@staff_page
def article_revisions(request: HttpRequest, article_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    article = selectors.article_get_for_staff(principal=principal, article_id=article_id)
    context = {"article": article, "revisions": selectors.revision_list(article=article)}
    return render(request, "kb/console_revisions.html", context)


@require_GET
@staff_page
def article_search_page(request: HttpRequest) -> HttpResponse:
    """Published articles matching `q`; from the reply box (htmx) each has a button that
    inserts its link at the cursor (kb/kb.js)."""
    principal = request.principal  # type: ignore[attr-defined]
    q = (request.GET.get("q") or "").strip()[:200]
    hits = []
    if q:
        hits, _ = article_search(principal=principal, text=q, published_only=True, limit=8)
    template = "kb/_console_hits.html" if request.htmx else "kb/console_search.html"  # type: ignore[attr-defined]
    return render(request, template, {"q": q, "hits": hits, "box": request.GET.get("box", "")})


@require_POST
@staff_page
def article_from_ticket(request: HttpRequest, ref: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    ticket = ticket_selectors.ticket_get(principal=principal, ref=ref)
    article = services.article_from_ticket(principal=principal, ticket=ticket, now=clock.now())
    return redirect("console:kb:edit", article_id=article.pk)

"""Public and portal pages of the knowledge base (K-1, K-2): thin adapters over the selectors
and services.

* /kb/ and /kb/<slug>/: anyone, no login; public articles only (any other answers 404), with
  a title, a meta description and a canonical link for search engines.
* /portal/kb/...: signed-in contacts; what their organisation may read, search, and the
  suggestions shown while they type a new ticket's subject (deflection).
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from supportdesk.core import clock
from supportdesk.core.errors import DomainError, NotFound
from supportdesk.core.links import absolute_url
from supportdesk.core.tenancy import Principal, principal_for
from supportdesk.core.web import contact_page
from supportdesk.customers.models import Contact
from supportdesk.kb import selectors, services
from supportdesk.kb.domain.markdown import description
from supportdesk.kb.models import Article
from supportdesk.kb.search import article_search, article_suggest

SUGGESTIONS = 5
QUERY_MAX = 200


def _error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request, "error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
    )


def _search_context(principal: Principal | None, q: str, now: Any) -> dict[str, Any]:
    q = (q or "").strip()[:QUERY_MAX]
    if not q:
        return {"q": "", "hits": None}
    entitled = selectors.entitled_product_ids(principal=principal, now=now)
    hits, more = article_search(principal=principal, text=q, entitled=entitled, limit=25)
    return {"q": q, "hits": hits, "more": more}


def _article_context(request: HttpRequest, article: Article, base: str) -> dict[str, Any]:
    canonical = reverse("kb-article", kwargs={"slug": article.slug})
    return {
        "article": article,
        "base": base,
        "description": description(article.summary, article.body_html),
        "canonical": absolute_url(canonical, request=request),
        "thanks": request.GET.get("thanks") == "1",
    }


# -- public --------------------------------------------------------------------------------


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    context = _search_context(None, request.GET.get("q", ""), now)
    context["articles"] = selectors.article_list(principal=None, now=now, limit=200)
    context["canonical"] = absolute_url(reverse("kb-index"), request=request)
    return render(request, "kb/public_index.html", context)


@require_GET
def public_article(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        article = selectors.article_get(principal=None, slug=slug, now=clock.now())
    except NotFound as exc:
        return _error(request, exc)
    services.article_view_record(article=article)
    return render(request, "kb/article.html", _article_context(request, article, "public"))


@require_POST
def public_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    principal = principal_for(request.user) if request.user.is_authenticated else None
    try:
        article = selectors.article_get(principal=principal, slug=slug, now=clock.now())
    except NotFound as exc:
        return _error(request, exc)
    contact = None
    if principal is not None and principal.contact_id is not None:
        contact = Contact.objects.get(pk=principal.contact_id)
    services.article_feedback_record(
        article=article,
        helpful=request.POST.get("helpful") == "yes",
        contact=contact,
        now=clock.now(),
    )
    back = request.POST.get("back") == "portal" and contact is not None
    name = "portal:kb-article" if back else "kb-article"
    return redirect(reverse(name, kwargs={"slug": slug}) + "?thanks=1")


@require_GET
def image(request: HttpRequest, image_id: int, name: str) -> HttpResponseBase:
    principal = principal_for(request.user) if request.user.is_authenticated else None
    try:
        found = selectors.image_get(principal=principal, image_id=image_id, now=clock.now())
        stored = found.file.open("rb")
    except DomainError as exc:
        return _error(request, exc)
    except OSError:
        return _error(request, NotFound("the file of this image is no longer stored"))
    response = FileResponse(stored, content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- portal --------------------------------------------------------------------------------


@contact_page
def portal_index(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    context = _search_context(principal, request.GET.get("q", ""), now)
    context["articles"] = selectors.article_list(principal=principal, now=now, limit=200)
    return render(request, "kb/portal_index.html", context)


@contact_page
def portal_article(request: HttpRequest, slug: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    article = selectors.article_get(principal=principal, slug=slug, now=now)
    services.article_view_record(article=article)
    token = request.GET.get("from", "")
    if token:
        contact = Contact.objects.get(pk=principal.contact_id)
        services.suggestion_opened(token=token, contact=contact, article=article, now=now)
    return render(request, "kb/article.html", _article_context(request, article, "portal"))


@contact_page
def portal_suggest(request: HttpRequest) -> HttpResponse:
    """The articles matching a new ticket's subject as the contact types it (htmx)."""
    principal = request.principal  # type: ignore[attr-defined]
    now = clock.now()
    subject = (request.GET.get("subject") or "").strip()[:QUERY_MAX]
    token = request.GET.get("kb_visit", "")
    hits: list[Any] = []
    if len(subject) >= 3:
        entitled = selectors.entitled_product_ids(principal=principal, now=now)
        hits = article_suggest(
            principal=principal, text=subject, entitled=entitled, limit=SUGGESTIONS
        )
    if hits:
        contact = Contact.objects.select_related("organization").get(pk=principal.contact_id)
        services.suggestions_shown(
            token=token, contact=contact, articles=[h.article for h in hits], now=now
        )
    return render(request, "kb/_suggestions.html", {"hits": hits, "token": token})

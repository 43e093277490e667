"""The enterprise preset ships public, customers-only, contract-only and internal articles."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from supportdesk.accounts.models import User
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.demo.load import demo_load
from supportdesk.kb.models import Article
from supportdesk.kb.search import article_search
from supportdesk.kb.selectors import entitled_product_ids

pytestmark = pytest.mark.django_db


def test_demo_articles_by_visibility(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    demo_load()
    vendor = Vendor.objects.get(slug="enterprise")
    articles = Article.objects.filter(vendor=vendor)
    assert set(articles.values_list("visibility", flat=True)) == {
        "public", "customers", "entitled", "internal"
    }  # fmt: skip
    public = client.get("/kb/").content.decode()
    assert "Outbound faxes stay in the queue" in public
    assert "Remote session checklist" not in public and "Cover page template" not in public
    alice = principal_for(User.objects.get(email="alice@acme-insurance.example"))
    carol = principal_for(User.objects.get(email="carol@globex-legal.example"))

    def titles(principal):
        entitled = entitled_product_ids(principal=principal, now=clock.now())
        hits, _ = article_search(principal=principal, text="modem", entitled=entitled)
        return {h.article.title for h in hits}

    # Acme's maintenance is active: the hotfix article; Globex's contract is past due: not.
    assert "Modem pool driver crash after the 10.1 update" in titles(alice)
    assert "Modem pool driver crash after the 10.1 update" not in titles(carol)
    assert "Remote session checklist for DSEs" not in titles(alice)
    call_command("kb_search_reindex", verbosity=0)
    assert "Outbound faxes stay in the queue" in titles(alice)

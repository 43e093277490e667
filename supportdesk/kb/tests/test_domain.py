"""Pure rules of the knowledge base: visibility, workflow, deflection, Markdown, diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from supportdesk.kb.domain.deflection import PATIENCE, VisitFacts, deflection
from supportdesk.kb.domain.markdown import description, plain_text, render
from supportdesk.kb.domain.revisions import revision_diff
from supportdesk.kb.domain.visibility import ArticleFacts, Reader, may_read
from supportdesk.kb.domain.workflow import may_move

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
VISIBILITIES = st.sampled_from(["public", "customers", "entitled", "internal"])
PRODUCTS = st.frozensets(st.integers(1, 5), max_size=3)


@given(VISIBILITIES, st.booleans(), PRODUCTS, PRODUCTS)
def test_readers_see_less_the_further_out_they_are(visibility, published, products, entitled):
    facts = ArticleFacts(visibility=visibility, published=published, product_ids=products)
    anonymous = may_read(facts, Reader.ANONYMOUS, entitled=())
    contact = may_read(facts, Reader.CONTACT, entitled=entitled)
    assert may_read(facts, Reader.STAFF, entitled=())
    assert not anonymous or contact  # whatever the public reads, a contact reads
    assert anonymous == (published and visibility == "public")
    if visibility == "internal" or not published:
        assert not contact
    if visibility == "entitled" and published:
        assert contact == (not products or bool(products & entitled))


def test_workflow_moves():
    assert may_move("draft", "review") and may_move("review", "published")
    assert may_move("published", "draft") and not may_move("published", "review")


@given(st.lists(st.tuples(st.integers(0, 300), st.booleans(), st.booleans()), max_size=30))
def test_deflection_counts_every_visit_once(rows):
    visits = [VisitFacts(NOW - timedelta(minutes=m), s, o) for m, s, o in rows]
    d = deflection(visits, now=NOW)
    assert d.visits == len(rows) == d.submitted + d.abandoned + d.open
    assert d.abandoned == sum(1 for m, s, _ in rows if not s and timedelta(minutes=m) >= PATIENCE)
    assert d.rate is None or 0 <= d.rate <= 1


def test_markdown_and_description():
    html = render("# Title\n\nA *word* and <b>raw</b>.\n\n![x](/kb/images/3/x.png)")
    assert "<em>word</em>" in html and "<b>" not in html and 'src="/kb/images/3/x.png"' in html
    assert plain_text(html) == "Title A word and <b>raw</b>."
    assert description("", render("word " * 100), width=30).endswith("…")
    assert description("Short.", html) == "Short."


def test_revision_diff():
    diff = revision_diff(before_title="A", before="one\ntwo", after_title="A", after="one\n3")
    assert "-two" in diff and "+3" in diff
    assert revision_diff(before_title="A", before="x", after_title="A", after="x") == ""

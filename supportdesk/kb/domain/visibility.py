"""Who may read an article (K-2). Pure.

* public: anyone, signed in or not;
* customers: any signed-in contact (and the vendor's staff);
* entitled: contacts whose organisation has an active contract for one of the article's
  products (an article naming no product is then like `customers`), and staff;
* internal: the vendor's staff only.

Only published articles are read outside the console; staff see every state of their own
vendor's articles there.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class Reader(StrEnum):
    ANONYMOUS = "anonymous"
    CONTACT = "contact"
    STAFF = "staff"


@dataclass(frozen=True)
class ArticleFacts:
    visibility: str
    published: bool
    product_ids: frozenset[int]


def visibilities_for(reader: Reader) -> tuple[str, ...]:
    """The visibility values a reader may ever see (entitled ones still need a product)."""
    if reader is Reader.STAFF:
        return ("public", "customers", "entitled", "internal")
    if reader is Reader.CONTACT:
        return ("public", "customers", "entitled")
    return ("public",)


def may_read(article: ArticleFacts, reader: Reader, *, entitled: Collection[int]) -> bool:
    """Whether `reader` may read the published article; `entitled`: the products the reader's
    organisation holds an active contract for (empty for anyone but a contact)."""
    if reader is Reader.STAFF:
        return True
    if not article.published or article.visibility not in visibilities_for(reader):
        return False
    if article.visibility == "entitled" and article.product_ids:
        return bool(article.product_ids & set(entitled))
    return True

"""``prepared_query`` (issue 16.1): built once, and no caller ever sees another's results."""

from __future__ import annotations

import pytest

from supportdesk.core.models import Vendor
from supportdesk.core.queries import prepared_query

pytestmark = pytest.mark.django_db


def test_a_prepared_query_is_built_once_and_every_caller_gets_a_fresh_clone():
    builds: list[int] = []

    @prepared_query
    def vendor_names():
        builds.append(1)
        return Vendor.objects.values("name")

    first = vendor_names()
    assert {"name": "Acme Support"} not in list(first)  # evaluated, its results cached
    Vendor.objects.create(name="Acme Support", slug="acme-support")
    # The next caller's query runs afresh: no results cached by an earlier caller.
    assert {"name": "Acme Support"} in list(vendor_names())
    assert list(vendor_names().filter(name="Acme Support")) == [{"name": "Acme Support"}]
    assert vendor_names() is not vendor_names()
    assert len(builds) == 1

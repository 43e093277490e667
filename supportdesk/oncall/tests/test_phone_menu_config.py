"""The phone menu never forwards a caller to the number that was dialled (seed 001: the main
number's menu puts callers through to the helpdesk; a loop would ring forever)."""

from __future__ import annotations

import pytest

from supportdesk.core.errors import InvalidInput
from supportdesk.oncall.services.schedules import config_update

pytestmark = pytest.mark.django_db


def test_helpdesk_line_may_not_be_a_dialled_number_O2(world) -> None:
    with pytest.raises(InvalidInput, match="the number they dialled"):
        config_update(
            vendor=world.vendor, helpdesk_number="+12817684800", inbound_numbers=["2817684800"]
        )
    config = config_update(
        vendor=world.vendor, helpdesk_number="+12815550100", inbound_numbers=["+12817684800"]
    )
    assert (config.helpdesk_number, config.inbound_numbers) == ("+12815550100", "+12817684800")

"""A forged on-call acknowledgement link signed with the public demo key stops nothing on a
production-configured server (issue 17.2): the key is refused at startup, and a server with its
own key refuses the link."""

from __future__ import annotations

import pytest
from django.test import override_settings

from supportdesk.core.startup import PUBLIC_SECRET_KEYS, configuration_problems
from supportdesk.oncall.models import ChainRun
from supportdesk.oncall.services.acknowledgements import ack_token
from supportdesk.oncall.tests.test_hooks import voicemail

pytestmark = pytest.mark.django_db
DEMO_KEY = next(iter(PUBLIC_SECRET_KEYS))


def test_link_forged_with_the_demo_key_is_refused_and_the_key_cannot_serve(client, paging):
    assert voicemail(client).status_code == 200
    run = ChainRun.objects.get()
    # What an outsider can sign with:
    with override_settings(SECRET_KEY=DEMO_KEY, SECRET_KEY_SOURCE="environment"):
        forged = ack_token(run=run, user=paging.architects[0])
        assert configuration_problems()[0].startswith("SECRET_KEY is the public demo key")
    response = client.post(f"/hooks/oncall/ack/{forged}/")
    assert response.status_code == 400
    assert b"invalid or has expired" in response.content
    run.refresh_from_db()
    assert run.acknowledged_at is None
    # The server's own link still works.
    genuine = ack_token(run=run, user=paging.architects[0])
    assert client.post(f"/hooks/oncall/ack/{genuine}/").status_code == 200
    run.refresh_from_db()
    assert run.acknowledged_by_id == paging.architects[0].pk

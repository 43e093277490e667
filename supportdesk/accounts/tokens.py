"""Single-use, expiring links for invitations and password resets (A-2).

Both are Django's token generator: the HMAC covers the user's password hash and last login,
so a link stops working the moment the password is set (single use), and its timestamp makes
it expire. Invitations get their own salt and a longer lifetime (INVITATION_TIMEOUT).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "supportdesk.accounts.tokens.InvitationTokenGenerator"

    def check_token(self, user: Any, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            expected = self._make_token_with_timestamp(user, ts, secret)
            if constant_time_compare(expected, token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= settings.INVITATION_TIMEOUT


invitation_token_generator = InvitationTokenGenerator()
password_reset_token_generator = default_token_generator


def uidb64(user: Any) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))

"""What a server checks before it starts: no public demo key, a public address.

`supportdesk demo` (settings.DEMO) and the test suite are exempt; every other way of serving —
`supportdesk serve`, `web`, `worker`, or any WSGI server loading config.wsgi — refuses to start
while a problem below remains, with a message saying how to fix it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Keys that have been public (in this repository's history or its docs): anything signed with
# them — on-call acknowledgement links, sessions, password-reset tokens — can be forged.
PUBLIC_SECRET_KEYS = frozenset({"insecure-demo-key-set-SECRET_KEY-in-production"})

HOW_TO_SET_A_KEY = (
    "set SECRET_KEY in the environment to a long random value, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` "
    "(docs/configuration.md, Production settings)"
)


def configuration_problems(conf: Any = settings) -> list[str]:
    """Why this configuration must not serve; empty when it may."""
    if conf.DEMO:
        return []
    problems = []
    key = conf.SECRET_KEY
    if not key or conf.SECRET_KEY_SOURCE == "ephemeral":  # noqa: S105 - a source name
        problems.append(f"SECRET_KEY is not set: {HOW_TO_SET_A_KEY}")
    elif key in PUBLIC_SECRET_KEYS:
        problems.append(
            f"SECRET_KEY is the public demo key, so links can be forged: {HOW_TO_SET_A_KEY}"
        )
    if not conf.DEBUG and not conf.PUBLIC_BASE_URL:
        problems.append(
            "PUBLIC_BASE_URL is not set: set it to the address people and providers reach this "
            "server at, e.g. PUBLIC_BASE_URL=https://support.example.com — every link in mail "
            "is built from it (only `supportdesk demo` and DEBUG=true run without it)"
        )
    return problems


def require_servable_configuration() -> None:
    """Raise ImproperlyConfigured listing every problem (the server then does not start)."""
    problems = configuration_problems()
    if problems:
        raise ImproperlyConfigured(
            "supportdesk refuses to start:\n" + "\n".join(f"- {p}" for p in problems)
        )


@register(Tags.security, deploy=True)
def check_servable_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`manage.py check --deploy` reports what would stop the server from starting."""
    return [Error(problem, id="supportdesk.E001") for problem in configuration_problems()]

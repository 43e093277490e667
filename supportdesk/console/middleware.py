"""Console pages show times in the agent's own time zone (issue 10.9): its profile setting,
else the vendor's zone. Everything rendered with ``|date`` under /console/ follows it; typed
times are not read in it (the time-entry form reads the vendor's zone and says so)."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from supportdesk.tickets.selectors import agent_time_zone

CONSOLE_PREFIX = "/console/"


class ConsoleTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        vendor_id = getattr(user, "vendor_id", None)
        if (
            not request.path.startswith(CONSOLE_PREFIX)
            or user is None
            or not user.is_authenticated
            or not (user.is_staff or user.is_superuser)
            or vendor_id is None
        ):
            return self.get_response(request)
        name = agent_time_zone(user_id=user.pk, vendor_id=vendor_id)
        try:
            timezone.activate(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            timezone.activate(ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

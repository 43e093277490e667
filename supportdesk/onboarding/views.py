from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from supportdesk.core import clock
from supportdesk.core.errors import DomainError
from supportdesk.onboarding.forms import SetupForm
from supportdesk.onboarding.services import SetupAnswers, vendor_setup


@login_required
def first_run(request: HttpRequest) -> HttpResponse:
    """A-1 in the browser: a superuser who belongs to no vendor sets one up and joins it."""
    user = request.user
    if not user.is_superuser or user.vendor_id is not None:  # type: ignore[union-attr]
        return redirect("home")
    form = SetupForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            vendor_setup(
                answers=SetupAnswers(**form.cleaned_data, admin_email=user.email),  # type: ignore[union-attr]
                acting_superuser=user,  # type: ignore[arg-type]
                now=clock.now(),
            )
        except DomainError as exc:
            error = exc.detail
        else:
            return redirect("console:queue")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "onboarding/first_run.html", {"form": form, "error": error}, status=status
    )

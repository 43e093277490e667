"""Invitation acceptance and password reset pages (A-2), for staff and contacts alike."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from supportdesk.accounts.services import password_reset_request, user_password_set
from supportdesk.accounts.tokens import invitation_token_generator
from supportdesk.core import clock


class ResetRequestForm(forms.Form):
    email = forms.EmailField(max_length=254)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """'Forgot password': the same answer whether or not the address is known."""
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(email=form.cleaned_data["email"], now=clock.now())
        return redirect("password-reset-sent")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_sent.html")


class SetPasswordView(PasswordResetConfirmView):
    """Choose a password from a single-use link; signs the person in and sends them home."""

    template_name = "accounts/set_password.html"
    heading = "Choose a new password"

    def form_valid(self, form: Any) -> HttpResponse:
        user = user_password_set(user=self.user, password=form.cleaned_data["new_password1"])
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "heading": self.heading}


class InvitationView(SetPasswordView):
    token_generator = invitation_token_generator
    heading = "Welcome: choose your password"

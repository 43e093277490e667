"""Invitation acceptance and password reset pages (A-2), for staff and contacts alike."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from supportdesk.accounts.services import password_reset_request, user_password_set
from supportdesk.accounts.tokens import invitation_token_generator
from supportdesk.core import clock
from supportdesk.core.errors import DomainError
from supportdesk.customers.services import (
    contact_signup_complete,
    contact_signup_request,
    signup_token_read,
)


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


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Work email")
    name = forms.CharField(max_length=200, label="Your name")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Self sign-up to the portal with a work address (A-2, where the vendor allows it)."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact_signup_request(
            email=form.cleaned_data["email"], name=form.cleaned_data["name"], now=clock.now()
        )
        return redirect("password-reset-sent")  # the same answer for every address
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signup_complete(request: HttpRequest, token: str) -> HttpResponse:
    try:
        address, name, organization = signup_token_read(token=token)
    except DomainError as exc:
        return render(
            request, "error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
        )
    form = SetPasswordForm(None, request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            user = contact_signup_complete(
                token=token, password=form.cleaned_data["new_password1"], now=clock.now()
            )
        except DomainError as exc:
            error = exc.detail
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
    context = {
        "form": form,
        "address": address,
        "name": name,
        "organization": organization,
        "error": error,
    }
    return render(request, "accounts/signup_complete.html", context, status=400 if error else 200)

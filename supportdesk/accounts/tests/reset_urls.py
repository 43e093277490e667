"""Test URLs: the app's own plus Django's password-reset view under its usual name."""

from django.contrib.auth import views as auth_views
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("test-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "test-reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "test-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    *app_urlpatterns,
]

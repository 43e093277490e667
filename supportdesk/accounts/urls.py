from django.urls import path

from supportdesk.accounts import views

urlpatterns = [
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.SetPasswordView.as_view(),
        name="password-reset-confirm",
    ),
    path("invite/<uidb64>/<token>/", views.InvitationView.as_view(), name="invitation"),
    path("signup/", views.signup, name="signup"),
    path("signup/<str:token>/", views.signup_complete, name="signup-complete"),
]

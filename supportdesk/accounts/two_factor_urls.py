from django.urls import path

from supportdesk.accounts import two_factor_views as views

app_name = "two-factor"
urlpatterns = [
    path("", views.enrol, name="enrol"),
    path("verify/", views.verify, name="verify"),
    path("require/", views.require_for_staff, name="require"),
]

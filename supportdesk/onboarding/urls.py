from django.urls import path

from supportdesk.onboarding import views

urlpatterns = [
    path("setup/", views.first_run, name="first-run"),
]

"""The portal's entitlement page, mounted at /portal/entitlement/."""

from django.urls import path

from supportdesk.contracts import views

urlpatterns = [
    path("", views.portal_entitlement, name="entitlement"),
]

"""The portal's Downloads page (K-1), mounted at /portal/downloads/."""

from django.urls import path

from supportdesk.kb import downloads_views as views

urlpatterns = [
    path("", views.portal_downloads, name="downloads"),
    path("<int:release_id>/", views.portal_download, name="download"),
]

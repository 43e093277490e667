"""Download links (K-3), mounted at /downloads/: the signed token is the authority."""

from django.urls import path

from supportdesk.kb import downloads_views as views

urlpatterns = [path("<str:token>/", views.serve_download, name="download")]

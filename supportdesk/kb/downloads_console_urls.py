"""Console pages for release files and the download log, mounted at /console/downloads/."""

from django.urls import path

from supportdesk.kb import downloads_views as views

app_name = "downloads"
urlpatterns = [
    path("", views.console_releases, name="releases"),
    path("releases/<int:release_id>/", views.console_release, name="release"),
    path("log/", views.console_download_log, name="log"),
]

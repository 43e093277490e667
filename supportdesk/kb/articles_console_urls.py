"""Console pages of the knowledge base, mounted at /console/kb/."""

from django.urls import path

from supportdesk.kb import articles_console as views

app_name = "kb"
urlpatterns = [
    path("", views.article_list_page, name="list"),
    path("new/", views.article_new, name="new"),
    path("search/", views.article_search_page, name="search"),
    path("from-ticket/<int:ref>/", views.article_from_ticket, name="from-ticket"),
    path("<int:article_id>/", views.article_edit, name="edit"),
    path("<int:article_id>/status/", views.article_status, name="status"),
    path("<int:article_id>/images/", views.article_image, name="image"),
    path("<int:article_id>/revisions/", views.article_revisions, name="revisions"),
]

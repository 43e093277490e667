"""The public knowledge base, mounted at /kb/ (no login)."""

from django.urls import path

from supportdesk.kb import articles_views as views

urlpatterns = [
    path("", views.public_index, name="kb-index"),
    path("images/<int:image_id>/<str:name>", views.image, name="kb-image"),
    path("<slug:slug>/", views.public_article, name="kb-article"),
    path("<slug:slug>/feedback/", views.public_feedback, name="kb-feedback"),
]

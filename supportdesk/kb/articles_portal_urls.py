"""The portal's knowledge base, mounted at /portal/kb/."""

from django.urls import path

from supportdesk.kb import articles_views as views

urlpatterns = [
    path("", views.portal_index, name="kb"),
    path("suggest/", views.portal_suggest, name="kb-suggest"),
    path("<slug:slug>/", views.portal_article, name="kb-article"),
]

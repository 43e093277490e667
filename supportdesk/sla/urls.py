from django.urls import path

from supportdesk.sla import views

urlpatterns = [
    path("", views.report_page, name="sla-report"),
]

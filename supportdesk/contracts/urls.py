"""Console pages of the contracts app, mounted at /console/contracts/."""

from django.urls import path

from supportdesk.contracts import views

app_name = "contracts"
urlpatterns = [
    path("", views.contract_list_page, name="list"),
    path("organizations/<int:org_id>/", views.organization_page, name="organization"),
    path("tickets/<int:ref>/category/", views.ticket_category, name="ticket-category"),
    path("organizations/<int:org_id>/status-calls/", views.status_call_page, name="status-call"),
]

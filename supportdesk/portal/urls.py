from django.urls import include, path

from supportdesk.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/new/", views.new_ticket, name="new"),
    path("tickets/<int:ref>/", views.ticket_page, name="ticket"),
    path("tickets/<int:ref>/<slug:action>/", views.ticket_action, name="ticket-action"),
    path("rate/<str:token>/", views.rate_by_link, name="rate"),
    path("colleagues/", views.colleagues, name="colleagues"),
    path("invoices/", views.invoices, name="invoices"),
    path("entitlement/", include("supportdesk.contracts.portal_urls")),
    path("kb/", include("supportdesk.kb.articles_portal_urls")),
]

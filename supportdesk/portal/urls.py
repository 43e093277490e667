from django.urls import include, path

from supportdesk.assets import portal as assets_portal
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
    path("invoices/<int:contract_id>/billing/", views.choose_billing, name="choose-billing"),
    path("entitlement/", include("supportdesk.contracts.portal_urls")),
    path("backups/", include("supportdesk.assets.portal_backups")),
    path("downloads/", include("supportdesk.kb.downloads_portal_urls")),
    path("devices/", assets_portal.devices, name="devices"),
    path("devices/rmas/<int:rma_id>/", assets_portal.rma_decide, name="rma-decide"),
    path("kb/", include("supportdesk.kb.articles_portal_urls")),
]

from django.urls import include, path

from supportdesk.console import views
from supportdesk.tickets import console as ticket_console

app_name = "console"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", views.search, name="search"),
    path("bulk/", views.bulk, name="bulk"),
    path("macros/", views.macro_page, name="macros"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/badge/", views.notifications_badge, name="notifications-badge"),
    path("tickets/<int:ref>/fresh/", views.ticket_fresh, name="ticket-fresh"),
    path("tickets/<int:ref>/macros/<int:macro_id>/", views.macro_text, name="macro-text"),
    path("views/save/", views.view_save, name="view-save"),
    path("views/<int:view_id>/delete/", views.view_delete, name="view-delete"),
    path("calls/new/", views.new_call, name="new-call"),
    path("tickets/<int:ref>/", views.ticket_page, name="ticket"),
    path("sla/", include("supportdesk.sla.urls")),
    path("oncall/", include("supportdesk.oncall.console_urls")),
    path("mail/", include("supportdesk.intake.console_urls")),
    path("contracts/", include("supportdesk.contracts.urls")),
    path("billing/", include("supportdesk.billing.console_urls")),
    path("alerts/", include("supportdesk.monitoring.console_urls")),
    path("contacts/", include("supportdesk.customers.console_urls")),
    path("settings/", include("supportdesk.onboarding.console_urls")),
    path("kb/", include("supportdesk.kb.articles_console_urls")),
    path("satisfaction/", ticket_console.satisfaction, name="satisfaction"),
    path(
        "tickets/<int:ref>/<slug:action>/",
        views.ticket_action,
        name="ticket-action",
    ),
]

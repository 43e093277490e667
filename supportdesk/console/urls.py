from django.urls import include, path

from supportdesk.console import (
    views,
    views_customer_contracts,
    views_customers,
    views_dashboard,
    views_time,
)
from supportdesk.tickets import console as ticket_console

app_name = "console"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", views.search, name="search"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
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
    path("tickets/<int:ref>/time/", views_time.time_add, name="time-add"),
    path("tickets/<int:ref>/time/<int:entry_id>/", views_time.time_edit, name="time-edit"),
    path(
        "tickets/<int:ref>/time/<int:entry_id>/delete/", views_time.time_delete, name="time-delete"
    ),
    path("sla/", include("supportdesk.sla.urls")),
    path("oncall/", include("supportdesk.oncall.console_urls")),
    path("mail/", include("supportdesk.intake.console_urls")),
    path("contracts/", include("supportdesk.contracts.urls")),
    path("billing/", include("supportdesk.billing.console_urls")),
    path("backups/", include("supportdesk.assets.console_backups")),
    path("alerts/", include("supportdesk.monitoring.console_urls")),
    path("contacts/", include("supportdesk.customers.console_urls")),
    path("settings/fax/", include("supportdesk.intake.console_fax_urls")),
    path("downloads/", include("supportdesk.kb.downloads_console_urls")),
    path("settings/", include("supportdesk.onboarding.console_urls")),
    path("customers/", views_customers.organization_list_page, name="customers"),
    path("customers/new/", views_customers.organization_create_page, name="customer-new"),
    path("customers/<int:org_id>/", views_customers.organization_page, name="customer"),
    path(
        "customers/<int:org_id>/edit/", views_customers.organization_edit_page, name="customer-edit"
    ),
    path(
        "customers/<int:org_id>/contacts/new/",
        views_customers.contact_create_page,
        name="contact-new",
    ),
    path(
        "customers/<int:org_id>/contracts/new/",
        views_customer_contracts.contract_create_page,
        name="customer-contract-new",
    ),
    path(
        "customers/contracts/<int:contract_id>/edit/",
        views_customer_contracts.contract_edit_page,
        name="customer-contract-edit",
    ),
    path("customers/contacts/<int:contact_id>/", views_customers.contact_page, name="contact"),
    path(
        "customers/contacts/<int:contact_id>/edit/",
        views_customers.contact_edit_page,
        name="contact-edit",
    ),
    path("assets/", include("supportdesk.assets.console_urls")),
    path("kb/", include("supportdesk.kb.articles_console_urls")),
    path("satisfaction/", ticket_console.satisfaction, name="satisfaction"),
    path(
        "tickets/<int:ref>/<slug:action>/",
        views.ticket_action,
        name="ticket-action",
    ),
]

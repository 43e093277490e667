"""Vendor settings under /console/settings/ (console/urls.py includes this)."""

from django.urls import path

from supportdesk.onboarding import console, console_setup

app_name = "settings"
urlpatterns = [
    path("", console.settings_home, name="home"),
    path("staff/", console.staff, name="staff"),
    path("staff/<int:user_id>/<slug:action>/", console.staff_action, name="staff-action"),
    path("queues/", console.queues, name="queues"),
    path("response-targets/", console.response_targets, name="targets"),
    path("mail/", console.mail_templates, name="mail"),
    path("mail/<slug:kind>/", console.mail_template_edit, name="mail-edit"),
    path("import/", console.import_upload, name="import"),
    path("plans/", console_setup.plans, name="plans"),
    path("on-call/", console_setup.oncall, name="oncall"),
    path("mailboxes/", console_setup.mailboxes, name="mailboxes"),
    path("providers/", console_setup.providers, name="providers"),
    path("webhooks/", console_setup.webhooks, name="webhooks"),
    path("letterhead/", console_setup.letterhead, name="letterhead"),
]

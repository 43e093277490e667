from django.urls import path

from supportdesk.monitoring import console

app_name = "alerts"
urlpatterns = [
    path("", console.alert_list, name="list"),
    path("<int:alert_id>/", console.alert_detail, name="detail"),
    path("<int:alert_id>/acknowledge/", console.acknowledge, name="acknowledge"),
    path("<int:alert_id>/match/", console.match, name="match"),
    path("integrations/", console.integrations, name="integrations"),
    path("integrations/new/", console.integration_create, name="integration-create"),
    path(
        "integrations/<int:integration_id>/rules/",
        console.integration_rules,
        name="integration-rules",
    ),
    path("maintenance/new/", console.window_create, name="window-create"),
]

from django.urls import path

from supportdesk.assets import console

app_name = "assets"
urlpatterns = [
    path("", console.asset_list, name="list"),
    path("new/", console.asset_new, name="new"),
    path("models/", console.model_new, name="model-new"),
    path("<int:asset_id>/", console.asset_detail, name="detail"),
    path("<int:asset_id>/edit/", console.asset_edit, name="edit"),
    path("rmas/<int:rma_id>/", console.rma_detail, name="rma"),
    path("rmas/<int:rma_id>/step/", console.rma_step, name="rma-step"),
    path("tickets/<int:ref>/device/", console.ticket_device, name="ticket-device"),
    path("tickets/<int:ref>/rma/", console.ticket_rma, name="ticket-rma"),
]

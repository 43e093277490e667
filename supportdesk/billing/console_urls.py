from django.urls import path

from supportdesk.billing import console

app_name = "billing"
urlpatterns = [
    path("", console.overview, name="overview"),
    path("organizations/<int:org_id>/", console.organization, name="organization"),
    path("organizations/<int:org_id>/payments/", console.payment, name="payment"),
    path("organizations/<int:org_id>/charges/", console.charge, name="charge"),
    path("contracts/<int:contract_id>/reinstate/", console.reinstate, name="reinstate"),
    path("contracts/<int:contract_id>/billing/", console.choose_billing, name="choose_billing"),
    path("user-count-changes/<int:change_id>/", console.count_decide, name="count_decide"),
    path("suspension-requests/<int:request_id>/", console.decide, name="decide"),
]

from django.urls import path

from supportdesk.customers import console

app_name = "contacts"
urlpatterns = [
    path("<int:contact_id>/invite/", console.contact_invite, name="invite"),
]

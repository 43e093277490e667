"""Console pages for stored mail, under /console/mail/ (console/urls.py includes this)."""

from django.urls import path

from supportdesk.intake import console

app_name = "mail"
urlpatterns = [
    path("", console.mail_list, name="list"),
    path("reply-address/", console.mail_reply_address, name="reply-address"),
    path("<int:inbound_id>/", console.mail_detail, name="detail"),
    path("<int:inbound_id>/link/", console.mail_link, name="link"),
    path("<int:inbound_id>/retry/", console.mail_retry, name="retry"),
    path("<int:inbound_id>/confirm/", console.mail_confirm, name="confirm"),
    path("<int:inbound_id>/discard/", console.mail_discard, name="discard"),
]

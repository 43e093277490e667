from django.urls import path

from supportdesk.oncall import console

app_name = "oncall"
urlpatterns = [
    path("", console.overview, name="overview"),
    path("runs/<int:run_id>/ack/", console.ack, name="ack"),
    path("page/", console.page, name="page"),
    path("tickets/<int:ref>/page/", console.page_ticket, name="page-ticket"),
    path("calendar-link/", console.feed_link, name="feed-link"),
]

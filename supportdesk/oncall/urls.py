"""Provider webhooks under /hooks/ (config/urls.py includes this)."""

from django.urls import path

from supportdesk.oncall import hooks

app_name = "oncall-hooks"
urlpatterns = [
    path("voice/incoming", hooks.voice_incoming, name="voice-incoming"),
    path("voice/menu", hooks.voice_menu, name="voice-menu"),
    path("voice/voicemail", hooks.voicemail, name="voicemail"),
    path("sms/inbound", hooks.sms_inbound, name="sms-inbound"),
    path("sms/status", hooks.sms_status, name="sms-status"),
    path("oncall/ack/<str:token>/", hooks.ack_link, name="ack"),
]

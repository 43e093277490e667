from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from supportdesk.api.api import api
from supportdesk.core import views
from supportdesk.tickets import views as ticket_views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", views.logout_view, name="logout"),
    path("account/two-factor/", include("supportdesk.accounts.two_factor_urls")),
    path(
        "attachments/<int:attachment_id>/",
        ticket_views.attachment_download,
        name="attachment-download",
    ),
    path("api/v1/", api.urls),
    path("downloads/", include("supportdesk.kb.downloads_urls")),
    path("console/", include("supportdesk.console.urls")),
    path("portal/", include("supportdesk.portal.urls")),
    path("kb/", include("supportdesk.kb.articles_urls")),
    path("hooks/mail/", include("supportdesk.intake.urls")),
    path("hooks/fax/", include("supportdesk.intake.fax_urls")),
    path("hooks/monitoring/", include("supportdesk.monitoring.urls")),
    path("hooks/", include("supportdesk.oncall.urls")),
    path("", include("supportdesk.onboarding.urls")),
    path("", include("supportdesk.accounts.urls")),
    path("admin/", admin.site.urls),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.not_found
handler500 = views.server_error

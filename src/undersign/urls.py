from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from undersign.core.http import IdConverter
from undersign.site import views as site_views
from undersign.site.login import StaffLoginView

register_converter(IdConverter, "id")

urlpatterns = [
    path("", site_views.home, name="home"),
    path("healthz", site_views.health, name="health"),
    path("", include("undersign.api.urls")),
    path("petitions/", include("undersign.site.petition_urls")),
    path("signatures/my-data/", include("undersign.site.signer_data_urls")),
    path("", include("undersign.signatures.urls")),
    path("", include("undersign.transparency.urls")),
    path("moderation/", include("undersign.moderation.urls")),
    path("proof/", include("undersign.abuse.proof_urls")),
    path("", include("undersign.verification.urls")),
    path("accounts/", site_views.staff_home, name="staff_home"),
    path("accounts/login/", StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(settings.ADMIN_PATH, admin.site.urls),
]

handler400 = "undersign.site.views.bad_request"
handler403 = "undersign.site.views.permission_denied"
handler404 = "undersign.site.views.page_not_found"
handler500 = "undersign.site.views.server_error"

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from undersign.core import views as core_views
from undersign.core.http import IdConverter

register_converter(IdConverter, "id")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.health, name="health"),
    path("", include("undersign.api.urls")),
    path("petitions/", include("undersign.petitions.urls")),
    path("", include("undersign.signatures.urls")),
    path("", include("undersign.transparency.urls")),
    path("moderation/", include("undersign.moderation.urls")),
    path("", include("undersign.verification.urls")),
    path("accounts/", core_views.staff_home, name="staff_home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]

handler400 = "undersign.core.views.bad_request"
handler403 = "undersign.core.views.permission_denied"
handler404 = "undersign.core.views.page_not_found"
handler500 = "undersign.core.views.server_error"

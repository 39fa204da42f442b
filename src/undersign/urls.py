from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from undersign.api import views as api_views
from undersign.core.http import IdConverter
from undersign.site import second_factor_views
from undersign.site import views as site_views
from undersign.site.login import StaffLoginView
from undersign.site.middleware import second_factor_step

register_converter(IdConverter, "id")

# Data answers the same bytes in every language, so it has no language prefix: the open data,
# the log, proof-of-work renewal and the health check. (The sign form's member search is JSON
# in the page's language, territory names and errors included: it lives with its page.)
urlpatterns = [
    path("healthz", site_views.health, name="health"),
    path("", include("undersign.api.urls")),
    path("", include("undersign.transparency.urls")),
    path("", include("undersign.sharing.urls")),
    path("proof/", include("undersign.abuse.proof_urls")),
]

# Pages have one URL per language (/en/…, /ru/…): the URL alone decides the language, so a
# shared cache can keep every public page (core.languages redirects a bare URL).
urlpatterns += i18n_patterns(
    path("", site_views.home, name="home"),
    path("api/", api_views.docs, name="api_docs"),
    path("petitions/", include("undersign.site.petition_urls")),
    path("", include("undersign.sharing.page_urls")),
    path("signatures/my-data/", include("undersign.site.signer_data_urls")),
    path("", include("undersign.signatures.urls")),
    path("", include("undersign.transparency.page_urls")),
    path("moderation/", include("undersign.moderation.urls")),
    path("", include("undersign.verification.urls")),
    path("accounts/", site_views.staff_home, name="staff_home"),
    path("accounts/login/", second_factor_step(StaffLoginView.as_view()), name="login"),
    path("accounts/logout/", second_factor_step(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/second-factor/", second_factor_views.verify, name="second_factor_verify"),
    path("accounts/second-factor/setup/", second_factor_views.setup, name="second_factor_setup"),
    path(
        "accounts/second-factor/recovery-codes/",
        second_factor_views.recovery_codes,
        name="second_factor_recovery_codes",
    ),
    # The admin's own login form would skip the growing delays and the second step: ours serves.
    path(f"{settings.ADMIN_PATH}login/", site_views.admin_login, name="admin_login"),
    path(settings.ADMIN_PATH, admin.site.urls),
    prefix_default_language=True,
)

handler400 = "undersign.site.views.bad_request"
handler403 = "undersign.site.views.permission_denied"
handler404 = "undersign.site.views.page_not_found"
handler500 = "undersign.site.views.server_error"

from django.urls import path

from undersign.site import signer_data_views as views

# A signer's own data: the one-time link's token is in the path (it is what the mail carries);
# the page's buttons post their one-time proof in the body.
app_name = "signer_data"
urlpatterns = [
    path("", views.act, name="act"),
    path("<str:token>/", views.show, name="show"),
]

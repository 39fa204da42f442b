from django.urls import path, re_path

from undersign.transparency import views

# The log itself, the same bytes in every language: no language prefix (core.languages).
app_name = "transparency"

urlpatterns = [
    path(".well-known/undersign-log.json", views.well_known, name="well_known"),
    path("log/checkpoint", views.checkpoint, name="checkpoint"),
    path("log/checkpoint-witnessed", views.checkpoint_witnessed, name="checkpoint_witnessed"),
    re_path(r"^log/tile/(?P<path>[0-9a-z./]{1,200})$", views.tile, name="tile"),
    re_path(r"^log/proof/(?P<commitment_hex>[0-9a-f]{64})$", views.proof, name="proof"),
]

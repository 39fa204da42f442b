from django.urls import path

from undersign.abuse import proof_views

app_name = "proof"
urlpatterns = [
    path("<id:petition_id>/renew", proof_views.proof_renew_view, name="renew"),
]

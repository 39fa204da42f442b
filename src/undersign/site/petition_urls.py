from django.urls import path

from undersign.site import petition_views as views

# The petition pages keep the "petitions" namespace: they are about petitions, even if the
# views bring several apps together and so live in the top app.
app_name = "petitions"
urlpatterns = [
    path("", views.petition_list_view, name="list"),
    path("new/", views.create_text, name="create"),
    path("new/similar/", views.create_similar, name="create_similar"),
    path("new/creator/", views.create_creator, name="create_creator"),
    path("new/check/", views.create_check, name="create_check"),
    path("new/thank-you/", views.create_done, name="create_done"),
    path("<id:petition_id>/", views.petition_detail, name="detail"),
    path("<id:petition_id>/statistics/", views.petition_statistics, name="statistics"),
    path("<id:petition_id>/signers/", views.petition_signers, name="signers"),
    path("<id:petition_id>/sign/", views.sign, name="sign"),
]

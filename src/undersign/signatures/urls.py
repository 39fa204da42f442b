from django.urls import path

from undersign.signatures import views

app_name = "signatures"
urlpatterns = [
    path("petitions/<int:petition_id>/sign/", views.sign, name="sign"),
    path("petitions/<int:petition_id>/sign/thank-you/", views.sign_done, name="sign_done"),
    path("petitions/<int:petition_id>/sponsor/<str:token>/", views.sponsor, name="sponsor"),
    path("petitions/<int:petition_id>/sponsor/<str:token>/thank-you/", views.sponsor_done, name="sponsor_done"),
    path("signatures/<int:signature_id>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("signatures/<int:signature_id>/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

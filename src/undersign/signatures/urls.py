from django.urls import path

from undersign.signatures import views

app_name = "signatures"
urlpatterns = [
    path("petitions/<id:petition_id>/sign/thank-you/", views.sign_done, name="sign_done"),
    path("petitions/<id:petition_id>/sponsor/<str:token>/", views.sponsor, name="sponsor"),
    path("petitions/<id:petition_id>/sponsor/<str:token>/thank-you/", views.sponsor_done, name="sponsor_done"),
    path("signatures/<id:signature_id>/confirm/<str:token>/", views.confirm, name="confirm"),
    path("signatures/<id:signature_id>/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

from django.urls import path

from undersign.signatures import views

app_name = "signatures"
# Links we e-mail carry an opaque token only: no signature id, no petition id (signatures.links).
urlpatterns = [
    path("petitions/<id:petition_id>/sign/thank-you/", views.sign_done, name="sign_done"),
    path("petitions/<id:petition_id>/sign/resend/", views.resend, name="resend"),
    path("sponsor/<str:token>/", views.sponsor, name="sponsor"),
    path("sponsor/<str:token>/resend/", views.sponsor_resend, name="sponsor_resend"),
    path("sponsor/<str:token>/thank-you/", views.sponsor_done, name="sponsor_done"),
    path("signatures/confirm/<str:token>/", views.confirm, name="confirm"),
    path("signatures/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("signatures/petition/<str:token>/<str:check>/", views.petition_link, name="petition_link"),
    path("signatures/withdraw/", views.withdraw_with_receipt, name="withdraw_with_receipt"),
    path("signatures/withdraw/<str:token>/<str:check>/", views.withdraw, name="withdraw"),
    path("signatures/data/<str:token>/<str:check>/", views.data_request, name="data_request"),
]

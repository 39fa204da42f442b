from django.urls import path

from undersign.sharing import views

# Data: no language prefix (the image is in the petition's language, the badge names its own).
app_name = "sharing"
urlpatterns = [
    path("petitions/<id:petition_id>/share/<int:bucket>.png", views.share_image, name="image"),
    path("petitions/<id:petition_id>/badge.svg", views.badge, name="badge"),
]

from django.urls import path

from undersign.sharing import views

# The embeddable count is a page: one per language, under the language prefix.
app_name = "embed"
urlpatterns = [
    path("petitions/<id:petition_id>/embed/", views.embed, name="count"),
]

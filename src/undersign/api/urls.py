from django.urls import path

from undersign.api import views

app_name = "api"
# Included at the root, before the petitions app: "petitions/<id>.json" must win over its pages.
urlpatterns = [
    path("petitions.json", views.petition_list_json, name="list_json"),
    path("petitions.csv", views.petition_list_csv, name="list_csv"),
    path("petitions/<id:petition_id>.json", views.petition_json, name="petition_json"),
    path("petitions/<id:petition_id>/count.json", views.petition_count, name="petition_count"),
    path("petitions/<id:petition_id>/history.json", views.petition_history, name="petition_history"),
    path("constituencies.json", views.constituencies, name="constituencies"),
    path("api/openapi.json", views.openapi, name="openapi"),
]

from django.urls import path
from django.views.generic import TemplateView

app_name = "api"
# Filled in by the open-data work: JSON, CSV, OpenAPI.
urlpatterns = [path("api/", TemplateView.as_view(template_name="base.html"), name="docs")]

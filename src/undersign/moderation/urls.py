from django.urls import path
from django.views.generic import TemplateView

app_name = "moderation"
# Filled in by the moderation work.
urlpatterns = [path("", TemplateView.as_view(template_name="base.html"), name="queue")]

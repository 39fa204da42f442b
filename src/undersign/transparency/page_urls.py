from django.urls import path

from undersign.transparency import views

# Pages about the log, for people: in each language's URL space (core.languages).
app_name = "log"
urlpatterns = [
    path("log/", views.log_page, name="index"),
    path("log/receipt", views.receipt, name="receipt"),
    path("log/verify", views.verify, name="verify"),
]

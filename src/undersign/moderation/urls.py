from django.urls import path

from undersign.moderation import list_views, views

app_name = "moderation"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("search/", views.search, name="search"),
    path("retention/", views.retention, name="retention"),
    path("signers/", views.signer_search, name="signer_search"),
    path("signers/approvals/", views.search_approval_request_view, name="search_approval_request"),
    path(
        "signers/approvals/<id:approval_id>/approve/",
        views.search_approval_approve_view,
        name="search_approval_approve",
    ),
    path("abuse/lists/", list_views.abuse_lists, name="abuse_lists"),
    path("abuse/lists/<id:entry_id>/remove/", list_views.abuse_list_remove, name="abuse_list_remove"),
    path("petitions/<id:petition_id>/", views.petition_detail, name="petition"),
    path("petitions/<id:petition_id>/approve/", views.approve, name="approve"),
    path("petitions/<id:petition_id>/reject/", views.reject, name="reject"),
    path("petitions/<id:petition_id>/flag/", views.flag, name="flag"),
    path("petitions/<id:petition_id>/take-down/", views.take_down, name="take_down"),
    path("petitions/<id:petition_id>/notes/", views.note_add, name="note_add"),
    path("petitions/<id:petition_id>/response/", views.response_publish, name="response_publish"),
]

from django.urls import path

from undersign.moderation import attack_views, bulk_views, list_views, views

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
    path("petitions/<id:petition_id>/attack-mode/", attack_views.attack_mode, name="attack_mode"),
    # Floods (moderation.bulk_views): held review, bulk actions, trending networks and domains.
    path("held/", bulk_views.held_review, name="held"),
    path("petitions/<id:petition_id>/held/", bulk_views.held_petition, name="held_petition"),
    path("petitions/<id:petition_id>/trending/", bulk_views.trending, name="trending"),
    path("bulk/", bulk_views.bulk, name="bulk"),
    path("bulk/<id:action_id>/", bulk_views.bulk_detail, name="bulk_detail"),
    path("bulk/<id:action_id>/approve/", bulk_views.bulk_approve, name="bulk_approve"),
    path("bulk/<id:action_id>/cancel/", bulk_views.bulk_cancel, name="bulk_cancel"),
    path("bulk/<id:action_id>/reinstate/", bulk_views.bulk_reinstate, name="bulk_reinstate"),
]

from django.urls import path

from undersign.verification import views

app_name = "verification"
urlpatterns = [
    # The sign form's member search: its territory names and errors are in the page's language,
    # so, unlike the open data, it has the page's language prefix.
    path("petitions/<id:petition_id>/registry-members.json", views.members_json, name="members_json"),
    # A leave link names no signature nor petition: an opaque token and its keyed check only.
    path("signatures/group/<str:token>/<str:check>/", views.group_leave_page, name="group_leave"),
    # The claim news link: the same kind of opaque token and its own keyed check.
    path("signatures/claim/<str:token>/<str:check>/", views.claim_news, name="claim_news"),
    path("verification/", views.queue, name="queue"),
    path("verification/claims/<id:claim_id>/", views.claim_detail, name="claim"),
    path("verification/claims/<id:claim_id>/evidence/", views.claim_evidence_document, name="evidence"),
    path("verification/claims/<id:claim_id>/decide/", views.decide, name="decide"),
    path("verification/claims/<id:claim_id>/reverse/", views.reverse, name="reverse"),
]

"""Petitions in the admin: for looking only. Every change of state goes through the services
(the moderation area for moderators), which guard the move and record it; an admin form
saving a row would do neither."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from undersign.core.admin import ReadOnlyAdmin, ReadOnlyInline
from undersign.petitions.models import Petition, PetitionEvent, PetitionResponse


class PetitionEventInline(ReadOnlyInline):
    model = PetitionEvent
    fields = ("created_at", "actor", "from_state", "to_state", "reason_code", "note")
    readonly_fields = fields


@admin.register(Petition)
class PetitionAdmin(ReadOnlyAdmin):
    list_display = ["id", "action", "state", "signature_count", "created_at", "opened_at", "closing_date"]
    list_filter = ["state"]
    search_fields = ["=id", "action", "background"]
    ordering = ["-id"]
    date_hierarchy = "created_at"
    # sponsor_token is left out: whoever holds it can sponsor the petition.
    fields = (
        "moderation_link",
        "uuid",
        "state",
        "action",
        "background",
        "additional_details",
        "signature_count",
        "last_signed_at",
        "created_at",
        "updated_at",
        "validated_at",
        "moderation_threshold_reached_at",
        "opened_at",
        "closing_date",
        "closed_at",
        "rejected_at",
        "rejection_code",
        "rejection_details",
        "response_threshold_reached_at",
        "debate_threshold_reached_at",
        "personal_data_destroyed_at",
        "data_key_id",
    )
    readonly_fields = fields
    inlines = [PetitionEventInline]

    @admin.display(description=gettext_lazy("Moderate"))
    def moderation_link(self, petition: Petition) -> str:
        url = reverse("moderation:petition", args=[petition.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open in the moderation area"))


@admin.register(PetitionEvent)
class PetitionEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "petition_id", "created_at", "actor", "from_state", "to_state", "reason_code"]
    list_filter = ["to_state", "reason_code"]
    search_fields = ["=petition__id"]
    list_select_related = ["actor"]
    ordering = ["-id"]
    fields = ("petition", "created_at", "actor", "from_state", "to_state", "reason_code", "note")
    readonly_fields = fields


@admin.register(PetitionResponse)
class PetitionResponseAdmin(ReadOnlyAdmin):
    list_display = ["id", "petition_id", "summary", "published_at", "published_by"]
    search_fields = ["=petition__id", "summary"]
    list_select_related = ["published_by"]
    ordering = ["-published_at"]
    fields = ("petition", "summary", "details", "published_at", "published_by")
    readonly_fields = fields

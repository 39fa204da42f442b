"""Signatures in the admin: for looking only, and without personal data. Name, e-mail and IP
address stay sealed, and the dedup tag stays out too: it would let anyone holding a guessed
address check whether its owner signed."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from undersign.core.admin import ReadOnlyAdmin
from undersign.signatures.models import Signature

SHOWN_FIELDS = (
    "id",
    "petition_id",
    "kind",
    "status",
    "region",
    "display",
    "created_at",
    "updated_at",
    "confirmed_at",
    "invalidated_at",
    "unsubscribed_at",
)
_NEVER_LOADED = ["dedup_tag", "name_sealed", "email_sealed", "ip_sealed", "language_sealed", "token_digest"]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = SHOWN_FIELDS
    list_filter = ["status", "kind", "display"]
    search_fields = ["=id", "=petition__id"]
    ordering = ["-id"]
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS
    show_full_result_count = False  # COUNT(*) over millions of rows on every page

    def get_queryset(self, request: HttpRequest) -> QuerySet[Signature]:
        # The sealed columns are not even read, so no template or hook can leak them.
        return super().get_queryset(request).defer(*_NEVER_LOADED)

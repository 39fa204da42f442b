from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from undersign.core.models import StaffAccess


class NoChanges:
    """No adding, changing or deleting, whoever asks."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(NoChanges, admin.ModelAdmin):
    """No adding, changing or deleting, whoever asks: the bulk "delete" action goes too."""


class ReadOnlyInline(NoChanges, admin.TabularInline):
    """Rows of an audit trail shown under their object: never added, changed or deleted here."""

    extra = 0
    can_delete = False


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyAdmin):
    """The record of staff looks at personal data: read here, never changed."""

    list_display = ("created_at", "actor", "action", "subject", "reason", "approved_by")
    list_filter = ("action", "created_at")
    search_fields = ("actor__username", "subject", "reason")
    date_hierarchy = "created_at"

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


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

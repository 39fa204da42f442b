"""Registries and validators in Django's admin, for staff. Members are changed only by CSV
imports (an upload here, or ``undersign import_registry``); claims and decisions are read-only,
since every decision goes through the validators' pages, which record it. Which member a claim
names is never in a list or a filter. Decrypted fields (the member, the decisions' notes) are
shown only to superusers, on a claim's own page, and each look is recorded
(``core.audit.staff_access_record``): a staff user with mere view permission would otherwise
read every claim of every registry, beyond any validator's role. Evidence is never shown here
(validators read it on their pages)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from undersign.core.admin import ReadOnlyAdmin, ReadOnlyInline
from undersign.core.audit import staff_access_record
from undersign.core.http import signed_in_user
from undersign.core.models import StaffAccessAction
from undersign.verification.evidence import DecryptionError, decision_note_open
from undersign.verification.forms import RegistryImportForm
from undersign.verification.models import (
    Claim,
    ClaimDecision,
    Registry,
    RegistryImport,
    RegistryMember,
    RegistryValidator,
)
from undersign.verification.registry_import import ImportRefused
from undersign.verification.selectors import claim_member
from undersign.verification.services import registry_import


class RegistryValidatorInline(admin.TabularInline):
    model = RegistryValidator
    fields = ["user", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    extra = 1


class RegistryImportInline(ReadOnlyInline):
    model = RegistryImport
    fields = ("created_at", "actor", "source", "added", "changed", "removed")
    readonly_fields = fields


@admin.register(Registry)
class RegistryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "validators_required", "official_domain", "members_link", "import_link"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "validators_required", "official_domain", "territory_set"]
    inlines = [RegistryValidatorInline, RegistryImportInline]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # petitions point at registries, and claims' sealed references at members

    @admin.display(description=gettext_lazy("members"))
    def members_link(self, obj: Registry) -> str:
        url = reverse("admin:verification_registrymember_changelist") + f"?registry__id__exact={obj.pk}"
        active = obj.members.filter(active=True).count()
        return format_html('<a href="{}">{}</a>', url, _("%(count)s active") % {"count": active})

    @admin.display(description=gettext_lazy("import"))
    def import_link(self, obj: Registry) -> str:
        url = reverse("admin:verification_registry_import", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Upload CSV"))

    def get_urls(self):
        extra = [
            path(
                "<int:registry_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="verification_registry_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest, registry_id: int) -> HttpResponse:
        registry = get_object_or_404(Registry, pk=registry_id)
        if not self.has_change_permission(request, registry):
            return redirect("admin:index")
        form = RegistryImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = registry_import(
                    registry=registry, data=upload.read(), source=f"admin: {upload.name}", actor=signed_in_user(request)
                )
            except ImportRefused as refused:
                errors = refused.errors
            else:
                messages.success(
                    request,
                    _("%(registry)s: %(added)s added, %(changed)s changed, %(removed)s removed.")
                    % {
                        "registry": registry.name,
                        "added": result.added,
                        "changed": result.changed,
                        "removed": result.removed,
                    },
                )
                return redirect("admin:verification_registry_change", registry.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "registry": registry,
            "form": form,
            "errors": errors,
            "title": _("Import members of %(registry)s") % {"registry": registry.name},
        }
        return render(request, "verification/admin_import.html", context, status=400 if errors else 200)


@admin.register(RegistryMember)
class RegistryMemberAdmin(ReadOnlyAdmin):
    list_display = ["name", "office", "district", "territory_code", "registry", "active", "external_id"]
    list_filter = ["registry", "active"]
    search_fields = ["name", "external_id", "office"]
    # The official e-mail is kept only as a digest: there is nothing to show but its domain.
    fields = [
        "registry",
        "external_id",
        "name",
        "office",
        "district",
        "territory_code",
        "official_email_domain",
        "active",
    ]


@admin.register(RegistryValidator)
class RegistryValidatorAdmin(admin.ModelAdmin):
    list_display = ["user", "registry", "created_at"]
    list_filter = ["registry"]
    autocomplete_fields = ["user"]


def _may_decrypt(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class ClaimDecisionInline(ReadOnlyInline):
    model = ClaimDecision
    fields = ("created_at", "actor", "by_official_email", "kind", "round", "reason_code", "note", "outcome")
    readonly_fields = fields

    def get_fields(self, request: HttpRequest, obj: object = None):
        fields = super().get_fields(request, obj)
        return fields if _may_decrypt(request) else [name for name in fields if name != "note"]

    @admin.display(description=gettext_lazy("note"))
    def note(self, obj: ClaimDecision) -> str:
        try:
            return decision_note_open(obj, bytes(obj.claim.signature.dedup_tag))
        except DecryptionError:
            return _("(not readable)")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["id", "petition", "status", "method", "created_at", "decided_at"]
    list_filter = ["status", "method"]
    fields = (
        "petition",
        "member",
        "status",
        "method",
        "round",
        "on_official_domain",
        "created_at",
        "decided_at",
        "evidence_deleted_at",
    )
    readonly_fields = fields
    inlines = [ClaimDecisionInline]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("signature", "petition")

    def get_fields(self, request: HttpRequest, obj: object = None):
        fields = super().get_fields(request, obj)
        return fields if _may_decrypt(request) else [name for name in fields if name != "member"]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        if object_id.isdigit() and _may_decrypt(request):
            staff_access_record(
                actor=signed_in_user(request),
                action=StaffAccessAction.VIEW_CLAIM,
                subject=f"claim:{object_id}",
                reason="admin",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=gettext_lazy("member"))
    def member(self, obj: Claim) -> str:
        member = claim_member(claim=obj)
        return str(member) if member is not None else _("(not readable)")

"""Staff's allow- and block-lists of the sign path's limits (``abuse.limits``): list, add, remove.
Every edit is recorded with who and when (``abuse.models.ListChange``), shown under the lists."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from undersign.abuse.models import ListChange, ListEntry, ListKind, ListTarget
from undersign.abuse.services import ListEntryInvalid, list_entry_add, list_entry_remove, list_value_normalise
from undersign.core.http import signed_in_user
from undersign.moderation.views import moderators_only

HISTORY_SHOWN = 50


class ListEntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=ListKind.choices, widget=forms.RadioSelect, initial=ListKind.BLOCK
    )
    target = forms.ChoiceField(
        label=gettext_lazy("Target"), choices=ListTarget.choices, widget=forms.RadioSelect, initial=ListTarget.DOMAIN
    )
    value = forms.CharField(
        max_length=253,
        label=gettext_lazy("Domain or network"),
        help_text=gettext_lazy(
            "A domain (example.org; its subdomains too) or a network (192.0.2.0/24, 2001:db8::/48, or one address)."
        ),
    )
    note = forms.CharField(max_length=200, required=False, label=gettext_lazy("Why (seen by staff only)"))

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if "target" in cleaned and "value" in cleaned:
            try:
                cleaned["value"] = list_value_normalise(target=cleaned["target"], value=cleaned["value"])
            except ListEntryInvalid as invalid:
                self.add_error("value", invalid.message)
        return cleaned


def _page(request: HttpRequest, form: ListEntryForm, status: int = 200) -> HttpResponse:
    entries = list(ListEntry.objects.select_related("created_by"))
    return render(
        request,
        "moderation/abuse_lists.html",
        {
            "form": form,
            "allow_entries": [e for e in entries if e.kind == ListKind.ALLOW],
            "block_entries": [e for e in entries if e.kind == ListKind.BLOCK],
            "history": ListChange.objects.select_related("actor")[:HISTORY_SHOWN],
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@moderators_only
def abuse_lists(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ListEntryForm())
    form = ListEntryForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = list_entry_add(
                actor=signed_in_user(request), kind=data["kind"], target=data["target"], value=data["value"],
                note=data["note"],
            )  # fmt: skip
        except ListEntryInvalid as invalid:
            form.add_error("value", invalid.message)
        else:
            message = (
                _("%(value)s is now on the allow-list.")
                if entry.kind == "allow"
                else _("%(value)s is now on the block-list.")
            )
            messages.success(request, message % {"value": entry.value})
            return redirect("moderation:abuse_lists")
    return _page(request, form, status=400)


@require_POST
@moderators_only
def abuse_list_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    if list_entry_remove(actor=signed_in_user(request), entry_id=entry_id):
        messages.success(request, _("The entry was removed."))
    else:
        messages.info(request, _("That entry was already removed."))
    return redirect("moderation:abuse_lists")

"""A moderator switches a petition's attack mode (``abuse.proof``) on or off, with a reason that
goes into the petition's audit trail. The held-rate job switches it on by itself; only a
moderator switches it off (``signatures.attack_mode`` says why)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from undersign.core.http import signed_in_user
from undersign.moderation.selectors import access_petition_by_id
from undersign.moderation.views import _petition_page, moderators_only
from undersign.petitions.services import petition_attack_mode_set


class AttackModeForm(forms.Form):
    on = forms.TypedChoiceField(
        choices=[("1", gettext_lazy("on")), ("0", gettext_lazy("off"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        max_length=200,
        label=gettext_lazy("Why"),
        help_text=gettext_lazy("Kept in the petition's audit trail, for moderators only."),
    )


@require_POST
@moderators_only
def attack_mode(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    form = AttackModeForm(request.POST, prefix="attack")
    if not form.is_valid():
        return _petition_page(request, petition, status=400, attack_form=form)
    on = form.cleaned_data["on"]
    changed = petition_attack_mode_set(
        petition=petition, on=on, actor=signed_in_user(request), reason=form.cleaned_data["reason"]
    )
    number = {"number": petition.pk}
    if changed:
        message = (
            _("Attack mode is on for petition %(number)s.") if on else _("Attack mode is off for petition %(number)s.")
        )
        messages.success(request, message % number)
    else:
        message = (
            _("Attack mode was already on for petition %(number)s.")
            if on
            else _("Attack mode was already off for petition %(number)s.")
        )
        messages.info(request, message % number)
    return redirect("moderation:petition", petition_id=petition.pk)

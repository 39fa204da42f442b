"""The forms of the moderators' tools against floods: which signatures (criteria), what to do
with them and why."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from undersign.core.http import MAX_ID
from undersign.moderation.bulk_selectors import TRENDING_HOURS_MAX, Criteria, domain_normalise, network_normalise
from undersign.moderation.models import BulkActionKind
from undersign.petitions.models import Petition

REASON_MAX_LENGTH = 2000
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class _LocalDateTime(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class CriteriaForm(forms.Form):
    """Which signatures: every field set must hold. Used by the held review (GET) and the bulk
    action form (POST), so a filtered view turns into an action on exactly that set."""

    petition = forms.IntegerField(
        label=_("Petition"),
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("A petition's number; empty: every petition."),
    )
    domain = forms.CharField(
        label=_("Domain"), required=False, max_length=253, help_text=_("E-mail domain, such as example.org.")
    )
    network = forms.CharField(
        label=_("Network"),
        required=False,
        max_length=50,
        help_text=_("A network such as 192.0.2.0/24 or 2001:db8::/64, or one address."),
    )
    created_from = forms.DateTimeField(
        required=False, input_formats=DATETIME_FORMATS, widget=_LocalDateTime(), label=_("Submitted from (UTC)")
    )
    created_until = forms.DateTimeField(
        required=False, input_formats=DATETIME_FORMATS, widget=_LocalDateTime(), label=_("Submitted before (UTC)")
    )
    held_only = forms.BooleanField(required=False, label=_("Held signatures only"))

    def clean_domain(self) -> str:
        domain = domain_normalise(self.cleaned_data["domain"])
        if domain and ("." not in domain or any(c.isspace() or c in "@/" for c in domain)):
            raise ValidationError(gettext("Type a domain such as example.org."))
        return domain

    def clean_network(self) -> str:
        network = self.cleaned_data["network"].strip()
        if not network:
            return ""
        try:
            return str(network_normalise(network))
        except ValueError:
            raise ValidationError(gettext("Type a network such as 192.0.2.0/24, or one IP address.")) from None

    def clean_petition(self) -> Petition | None:
        petition_id = self.cleaned_data["petition"]
        if petition_id is None:
            return None
        petition = Petition.objects.filter(pk=petition_id).first()
        if petition is None:
            raise ValidationError(gettext("There is no petition number %(number)s.") % {"number": petition_id})
        return petition

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_until")
        if start and end and start >= end:
            self.add_error("created_until", gettext("The end of the window must come after its start."))
        return data

    def criteria(self) -> Criteria:
        data = self.cleaned_data
        return Criteria(
            petition=data.get("petition"),
            domain=data.get("domain", ""),
            network=data.get("network", ""),
            created_from=data.get("created_from"),
            created_until=data.get("created_until"),
            held_only=bool(data.get("held_only")),
        )


class BulkActionForm(CriteriaForm):
    kind = forms.ChoiceField(
        choices=[
            (BulkActionKind.INVALIDATE, BulkActionKind.INVALIDATE.label),
            (BulkActionKind.RELEASE, BulkActionKind.RELEASE.label),
        ],
        label=_("Kind"),
        initial=BulkActionKind.INVALIDATE,
        error_messages={"invalid_choice": _("Choose to invalidate or to release.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to act; kept with the action (name no signer, network or domain here)."),
    )


class ReinstateForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why it is reinstated.")},
    )


class TrendingForm(forms.Form):
    hours = forms.IntegerField(label=_("Hours"), required=False, min_value=1, max_value=TRENDING_HOURS_MAX, initial=24)

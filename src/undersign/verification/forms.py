from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from undersign.core.http import parse_id
from undersign.core.reference import RejectionReason, load_reasons
from undersign.petitions.models import Petition
from undersign.petitions.services import (
    NO_GROUP,
    GroupThresholds,
    group_named_range,
    group_territories_range,
    group_thresholds_default,
)
from undersign.signatures.forms import SignerForm
from undersign.verification.models import DecisionKind, Registry, RegistryMember, SigningPolicy
from undersign.verification.selectors import member_for_petition

NOTE_MAX_LENGTH = 2000
# The first bytes of each type we accept: the type a browser sends is whatever the file's name
# suggests, so the content decides.
MAGIC = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
CHOOSE_MEMBER = _("Choose your entry from the registry list.")


@cache
def claim_rejection_reasons() -> tuple[RejectionReason, ...]:
    """The reasons validators give (``CLAIM_REJECTION_REASONS_FILE``), read once."""
    return load_reasons(settings.CLAIM_REJECTION_REASONS_FILE)


def claim_rejection_title(code: str) -> str:
    """The reason's title in the current language: the bundled reasons' titles are in the
    catalogue (``verification.reasons``); a site's own file is shown as written."""
    return next((gettext(reason.title) for reason in claim_rejection_reasons() if reason.code == code), code)


def sniffed_type(head: bytes) -> str | None:
    return next((kind for kind, magic in MAGIC.items() if head.startswith(magic)), None)


class ClaimSignForm(SignerForm):
    """The sign form of a petition that takes registry claims: the signer's details plus the
    member they claim to be (chosen from a name search) and optional evidence. Every message
    is neutral: it never says whether someone is or is not in a registry."""

    member_query = forms.CharField(label=_("Find yourself in the registry"), max_length=100, required=False)
    # Labelled for the error summary, which names the field of each error it lists.
    member = forms.IntegerField(label=_("Your registry entry"), required=False, min_value=1, max_value=2**63 - 1)
    evidence_note = forms.CharField(
        label=_("A note for the validator (optional)"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example how to reach your office to check. Seen only by the registry's validators."),
    )
    evidence_document = forms.FileField(
        label=_("A document (optional)"),
        required=False,
        help_text=_(
            "PDF, JPEG or PNG, for example your mandate. Seen only by the registry's validators, "
            "deleted after the decision."
        ),
    )

    def __init__(self, *args, petition: Petition, policy: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.petition = petition
        self.policy = policy
        self.fields["member"].error_messages.update(
            invalid=CHOOSE_MEMBER, min_value=CHOOSE_MEMBER, max_value=CHOOSE_MEMBER
        )

    def clean_member(self) -> RegistryMember | None:
        member_id = self.cleaned_data.get("member")
        if member_id is None:
            if self.policy == SigningPolicy.REGISTRY_ONLY:
                raise forms.ValidationError(
                    _("This petition is signed by registry members only. Find your entry and choose it.")
                )
            return None
        member = member_for_petition(petition=self.petition, member_id=member_id)
        if member is None:
            raise forms.ValidationError(CHOOSE_MEMBER)
        return member

    def clean_evidence_document(self) -> tuple[bytes, str] | None:
        upload = self.cleaned_data.get("evidence_document")
        if not upload:
            return None
        limit = settings.EVIDENCE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("The document must be %(size)s KB or smaller.") % {"size": limit // 1024})
        data = upload.read(limit + 1)
        kind = sniffed_type(data[:16])
        if kind is None or kind not in settings.EVIDENCE_CONTENT_TYPES:
            allowed = ", ".join(t.split("/")[1].upper() for t in settings.EVIDENCE_CONTENT_TYPES)
            raise forms.ValidationError(_("The document must be one of: %(types)s.") % {"types": allowed})
        return data, kind


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (DecisionKind.VALIDATE, DecisionKind.VALIDATE.label),
            (DecisionKind.REJECT, DecisionKind.REJECT.label),
        ],
        error_messages={"required": _("Choose validate or reject."), "invalid_choice": _("Choose validate or reject.")},
    )
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, error_messages={"invalid_choice": _("Choose one of the reasons.")}
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        assert isinstance(field, forms.ChoiceField), "declared above"
        field.choices = [("", _("Choose a reason"))] + [
            (reason.code, claim_rejection_title(reason.code)) for reason in claim_rejection_reasons()
        ]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        assert data is not None, "Form.clean returns cleaned_data"
        if data.get("decision") == DecisionKind.REJECT and not data.get("reason"):
            self.add_error("reason", _("Choose a reason for rejecting the claim."))
        return data


class ReverseForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the decision is reversed.")},
    )


class RegistriesField(forms.ModelMultipleChoiceField):
    """Ids beyond the bigint range cannot even be bound by SQLite: refuse them before any query."""

    def _check_values(self, value):
        if any(parse_id(str(item)) is None for item in value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        # Django's private ModelMultipleChoiceField._check_values is missing from django-stubs.
        return super()._check_values(value)  # type: ignore[misc]


class PetitionVerificationForm(forms.Form):
    """The creator's choice of who may sign, in the first step of the create wizard."""

    policy = forms.ChoiceField(
        label=_("Who may sign?"),
        choices=SigningPolicy.choices,
        initial=SigningPolicy.ANYONE,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose who may sign.")},
    )
    registries = RegistriesField(
        label=_("Registries whose members may sign as verified"),
        queryset=Registry.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Choose registries from the list."),
            "invalid_pk_value": _("Choose registries from the list."),
        },
    )
    quorum_verified = forms.IntegerField(
        label=_("Quorum: at least this many verified signers (optional)"),
        required=False,
        min_value=1,
        max_value=100_000,
    )
    quorum_territories = forms.IntegerField(
        label=_("… from at least this many territories (optional)"), required=False, min_value=1, max_value=1000
    )
    # Safety in numbers (``petitions.services.GroupThresholds``): bounds come from the settings,
    # checked in ``clean`` so that the messages say them.
    group_min_named = forms.IntegerField(
        label=_(
            "Safety in numbers: signers who ask to be named only together are named once at least this "
            "many of them are verified"
        ),
        required=False,
        error_messages={"invalid": _("Enter a whole number.")},
    )
    group_min_territories = forms.IntegerField(
        label=_("… from at least this many territories"),
        required=False,
        error_messages={"invalid": _("Enter a whole number.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default = group_thresholds_default()
        self.fields["group_min_named"].initial = default.named
        self.fields["group_min_territories"].initial = default.territories
        low, high = group_named_range()
        self.fields["group_min_named"].help_text = _(
            "From %(low)s to %(high)s. Fixed once the petition is created."
        ) % {
            "low": low,
            "high": high,
        }
        self.fields["group_min_territories"].help_text = _("From 1 to %(high)s.") % {
            "high": group_territories_range()[1]
        }

    def clean(self) -> dict[str, object]:
        data = super().clean()
        assert data is not None, "Form.clean returns cleaned_data"
        if data.get("policy") not in (None, SigningPolicy.ANYONE) and not data.get("registries"):
            self.add_error("registries", _("Choose at least one registry."))
        if data.get("policy") not in (None, SigningPolicy.ANYONE):
            self._clean_group(data)
        return data

    def _clean_group(self, data: dict[str, object]) -> None:
        """The group's thresholds, within the settings' bounds and within reach of the chosen
        registries: a group that can never be named would only hide its members for nothing.
        Registries with fewer members than the smallest group allowed take a petition that
        offers none (both thresholds None here, ``NO_GROUP`` for the service)."""
        default = group_thresholds_default()
        named, territories = data.get("group_min_named"), data.get("group_min_territories")
        named = default.named if named is None else named
        territories = default.territories if territories is None else territories
        assert isinstance(named, int) and isinstance(territories, int), "IntegerFields"
        low, high = group_named_range()
        if not low <= named <= high:
            self.add_error(
                "group_min_named",
                _("Choose a group of %(low)s to %(high)s verified signers.") % {"low": low, "high": high},
            )
        if not 1 <= territories <= group_territories_range()[1]:
            self.add_error(
                "group_min_territories",
                _("Choose from 1 to %(high)s territories.") % {"high": group_territories_range()[1]},
            )
        registries = data.get("registries")
        if registries and not self.errors:
            members = RegistryMember.objects.filter(registry__in=registries, active=True)
            available = members.count()
            if available < low:
                data["group_min_named"] = data["group_min_territories"] = None
                return
            if named > available:
                self.add_error(
                    "group_min_named",
                    ngettext(
                        "The chosen registries list %(available)s members: a group of %(named)s could never be named.",
                        "The chosen registries list %(available)s members: a group of %(named)s could never be named.",
                        available,
                    )
                    % {"available": available, "named": named},
                )
            reachable = members.values("territory_code").distinct().count()
            if territories > reachable:
                self.add_error(
                    "group_min_territories",
                    ngettext(
                        "The chosen registries cover %(reachable)s territory: a group from %(territories)s could "
                        "never be named.",
                        "The chosen registries cover %(reachable)s territories: a group from %(territories)s could "
                        "never be named.",
                        reachable,
                    )
                    % {"reachable": reachable, "territories": territories},
                )
        data["group_min_named"], data["group_min_territories"] = named, territories

    def group_thresholds(self) -> GroupThresholds | None:
        """The safety-in-numbers thresholds for ``petition_create`` (None: the defaults, where
        the petition takes no claims and so offers no group; ``NO_GROUP``: its registries are
        too small for one)."""
        data = self.cleaned_data
        if data["policy"] == SigningPolicy.ANYONE:
            return None
        if data["group_min_named"] is None:
            return NO_GROUP
        return GroupThresholds(named=data["group_min_named"], territories=data["group_min_territories"])

    def service_arguments(self) -> dict[str, object]:
        """Keyword arguments for ``petition_verification_set``."""
        data = self.cleaned_data
        return {
            "policy": data["policy"],
            "registries": list(data["registries"]),
            "quorum_verified": data["quorum_verified"],
            "quorum_territories": data["quorum_territories"],
        }

    def session_data(self) -> dict[str, object]:
        """JSON-safe cleaned data, for the wizard's session draft."""
        data = self.cleaned_data
        return {
            "policy": data["policy"],
            "registries": [registry.pk for registry in data["registries"]],
            "quorum_verified": data["quorum_verified"],
            "quorum_territories": data["quorum_territories"],
            "group_min_named": data["group_min_named"],
            "group_min_territories": data["group_min_territories"],
        }


class RegistryImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file (UTF-8)"))


def petition_verification_form(
    data: Mapping[str, Any] | None = None, *, initial: MutableMapping[str, Any] | None = None
) -> PetitionVerificationForm | None:
    """The "who may sign" part of the create wizard, or None while no registry exists (the
    wizard then asks nothing new)."""
    if not Registry.objects.exists():
        return None
    return PetitionVerificationForm(data, initial=initial)

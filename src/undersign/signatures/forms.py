from __future__ import annotations

import copy
import ipaddress
import uuid
from dataclasses import dataclass

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from undersign.core.addresses import COMMON_MAIL_DOMAINS, address_suggestion
from undersign.core.reference import regions
from undersign.petitions.models import Petition
from undersign.signatures.models import Display
from undersign.signatures.services import SignerCorrections, SignerDetails
from undersign.signatures.signals import group_named, group_offered
from undersign_verify.receipt import ReceiptError, parse_receipt

MAX_RECEIPT_BYTES = 64 * 1024

# Every display but the group's, which a petition offers only where its members can be verified.
ORDINARY_DISPLAYS = [choice for choice in Display.choices if choice[0] != Display.GROUP]


def group_choice_label(petition: Petition) -> str:
    """The group's display choice as the petition's signers read it, with its own thresholds."""
    named, territories = petition.group_min_named, petition.group_min_territories
    return ngettext(
        "Name me only once at least %(named)s verified signers from at least %(territories)s territory "
        "are named with me",
        "Name me only once at least %(named)s verified signers from at least %(territories)s territories "
        "are named with me",
        territories,
    ) % {"named": named, "territories": territories}


@dataclass(frozen=True)
class GroupChoice:
    """The group's display choice as a petition's forms offer it: its label, and whether the
    group has been named already (the forms then say that choosing it names the signer at the
    next update, not once the group is complete)."""

    label: str
    named: bool


def group_choice(petition: Petition) -> GroupChoice | None:
    """The group's display choice on ``petition``'s forms, or None where it is not offered
    (``signals.group_offered``: a petition that takes registry claims)."""
    if not group_offered(petition):
        return None
    return GroupChoice(group_choice_label(petition), group_named(petition))


def _display_choices(field: forms.Field, group: GroupChoice | None) -> None:
    """Offer the group on ``field``, just after "named", whose variant it is."""
    assert isinstance(field, forms.ChoiceField), "the display field"
    if group is not None:
        field.choices = [ORDINARY_DISPLAYS[0], (Display.GROUP, group.label), *ORDINARY_DISPLAYS[1:]]


def is_ip_literal_address(email: str) -> bool:
    """Whether the address's domain is an IP address (``user@[192.0.2.1]``, which Django's
    validator accepts, or a bare ``user@192.0.2.1``). Such an address names a machine, not a
    mail domain: dedup and the per-domain limits cannot tell one person's from many, and an
    attacker with a block of addresses would have a domain per address."""
    domain = email.rpartition("@")[2]
    if domain.startswith("[") and domain.endswith("]"):
        return True
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return False
    return True


class SignerForm(forms.Form):
    """Who signs: the same questions for creators, sponsors and signers."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=100,
        error_messages={
            "required": _("Enter your name."),
            "max_length": _("Your name must be 100 characters or fewer."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm your signature. It is never shown to anyone."),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address like name@example.org."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    region = forms.ChoiceField(
        label=_("Where do you live?"),
        error_messages={
            "required": _("Choose where you live."),
            "invalid_choice": _("Choose where you live from the list."),
        },
    )
    display = forms.ChoiceField(
        label=_("What may we show about you?"),
        choices=ORDINARY_DISPLAYS,
        initial=Display.COUNTED,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose what we may show about you.")},
    )
    notify_updates = forms.BooleanField(label=_("E-mail me updates about this petition"), required=False)

    def __init__(self, *args, group: GroupChoice | None = None, **kwargs) -> None:
        """``group``: the group's display choice where the petition offers it (``group_choice``)."""
        super().__init__(*args, **kwargs)
        # The mistyped-address guard (``core.addresses``): the address it suggests instead of
        # the typed one, and the typed one once its signer said it is right (``_signer_fields.html``
        # posts it back as ``address_kept``, so it is not questioned again on a form with other errors).
        self.address_suggestion: str | None = None
        self.address_kept: str | None = None
        self.fields["email"].widget.attrs.update(
            {
                "data-address-domains": " ".join(COMMON_MAIL_DOMAINS),
                # %s: the likely address, which address-hint.js makes a button that puts it in the field.
                "data-address-hint": gettext("Did you mean %s?"),
            }
        )
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField), "declared above"
        region.choices = [("", gettext("Choose…"))] + [(r.code, r.name) for r in regions()]
        _display_choices(self.fields["display"], group)
        self.group_offered = group is not None
        self.group_named = group is not None and group.named

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name or any(ord(ch) < 32 for ch in name):
            raise forms.ValidationError(gettext("Enter your name."))
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if any(ord(ch) < 33 for ch in email):
            raise forms.ValidationError(gettext("Enter an e-mail address like name@example.org."))
        if is_ip_literal_address(email):
            raise forms.ValidationError(
                gettext(
                    "Enter an address at a domain name, like name@example.org: "
                    "an address at an IP address cannot be used."
                )
            )
        suggestion = address_suggestion(email)
        if suggestion is None:
            return email
        if self.data.get("address_right") or (self.data.get("address_kept") or "").strip() == email:
            self.address_kept = email
            return email
        self.address_suggestion = suggestion
        raise forms.ValidationError(
            gettext("Did you mean %(suggestion)s? Correct the address, or tick the box below if it is right.")
            % {"suggestion": suggestion},
            code="address_typo",
        )

    def signer_details(self, *, ip_address: str | None) -> SignerDetails:
        """The valid form's answers, for ``signature_create``."""
        data = self.cleaned_data
        return SignerDetails(
            name=data["name"],
            email=data["email"],
            region=data["region"],
            display=data["display"],
            notify_updates=data["notify_updates"],
            ip_address=ip_address,
        )


class CreatorForm(SignerForm):
    display = forms.ChoiceField(
        label=_("Show your name as the petition's creator?"),
        choices=[(Display.NAMED, _("Yes, show my name and region")), (Display.COUNTED, _("No, do not show my name"))],
        initial=Display.NAMED,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose whether to show your name.")},
    )
    notify_updates = forms.BooleanField(label=_("E-mail me updates about this petition"), required=False, initial=True)


class ConfirmForm(forms.Form):
    """What the holder of a confirmation link may set right before confirming (name, region,
    display), shown filled in with what the form was signed with."""

    name = SignerForm.base_fields["name"]
    region = SignerForm.base_fields["region"]
    display = SignerForm.base_fields["display"]
    commitment = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, creator: bool = False, group: GroupChoice | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField), "declared above"
        region.choices = [("", gettext("Choose…"))] + [(r.code, r.name) for r in regions()]
        self.group_offered = group is not None and not creator
        self.group_named = self.group_offered and group is not None and group.named
        if creator:
            self.fields["display"] = copy.deepcopy(CreatorForm.base_fields["display"])
        else:
            _display_choices(self.fields["display"], group)

    clean_name = SignerForm.clean_name

    def corrections(self) -> SignerCorrections:
        data = self.cleaned_data
        return SignerCorrections(name=data["name"], region=data["region"], display=data["display"])


class ResendForm(forms.Form):
    """The address a confirmation link is to be sent again to. Errors say only what is wrong
    with what was typed, never whether a signature stands behind it."""

    email = forms.EmailField(
        label=_("The e-mail address you signed with"),
        max_length=254,
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address like name@example.org."),
            "max_length": _("An e-mail address is at most 254 characters."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    clean_email = SignerForm.clean_email


class WithdrawWithReceiptForm(forms.Form):
    """A receipt (pasted, or its file), or the petition's log id and the receipt code shown once
    at confirmation: either gives the petition and r. Errors say only what is wrong with the
    input's form, never whether a signature stands behind it."""

    receipt = forms.CharField(label=_("Paste the receipt"), required=False, max_length=MAX_RECEIPT_BYTES)
    file = forms.FileField(label=_("or choose its file"), required=False)
    petition = forms.CharField(label=_("Petition log id"), required=False, max_length=100)
    code = forms.CharField(label=_("Receipt code"), required=False, max_length=200)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        text = self._receipt_text(data)
        if text:
            try:
                receipt = parse_receipt(text)
            except ReceiptError as exc:
                raise forms.ValidationError(
                    gettext("This is not a receipt of this site: %(reason)s.") % {"reason": exc}
                ) from None
            data["petition_uuid"], data["r"] = receipt.petition, receipt.r
            return data
        petition, code = str(data.get("petition") or "").strip(), str(data.get("code") or "").strip()
        if not petition and not code:
            raise forms.ValidationError(
                gettext("Paste your receipt, choose its file, or enter the petition's log id and your receipt code.")
            )
        try:
            data["petition_uuid"] = uuid.UUID(petition)
        except ValueError:
            raise forms.ValidationError(
                gettext("The petition's log id looks like 1b4e28ba-2fa1-11d2-883f-0016d3cca427.")
            ) from None
        try:
            data["r"] = bytes.fromhex(code)
        except ValueError:
            data["r"] = b""
        if len(data["r"]) != 32:
            raise forms.ValidationError(gettext("The receipt code is 64 characters, the digits 0–9 and letters a–f."))
        return data

    def _receipt_text(self, data: dict[str, object]) -> str:
        upload = data.get("file")
        if isinstance(upload, UploadedFile):
            if (upload.size or 0) > MAX_RECEIPT_BYTES:
                raise forms.ValidationError(gettext("That file is too large to be a receipt."))
            try:
                return upload.read().decode().strip()
            except UnicodeDecodeError:
                raise forms.ValidationError(gettext("That file is not a receipt.")) from None
        return str(data.get("receipt") or "").strip()

    def withdrawal(self) -> tuple[uuid.UUID, bytes]:
        """The valid form's petition and r."""
        return self.cleaned_data["petition_uuid"], self.cleaned_data["r"]

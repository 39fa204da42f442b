from __future__ import annotations

import re
from ipaddress import ip_network

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from undersign.core.http import MAX_ID
from undersign.core.reference import rejection_reasons
from undersign.moderation.models import SearchApproval, SignerSearchKind

NOTE_MAX_LENGTH = 5000
RESPONSE_DETAILS_MAX_LENGTH = 20_000


def _reason_choices() -> list[tuple[str, str]]:
    # A callable: the list comes from REJECTION_REASONS_FILE, read when a form is built.
    # The bundled reasons' titles are in the catalogue (``moderation.reasons``).
    return [("", gettext("Choose a reason"))] + [
        (reason.code, gettext("%(title)s (hides the text)") % {"title": gettext(reason.title)})
        if reason.hidden
        else (reason.code, gettext(reason.title))
        for reason in rejection_reasons()
    ]


class ReasonForm(forms.Form):
    """Reject or take down: a configured reason, and optional words for the creator."""

    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=_reason_choices,
        error_messages={
            "required": _("Choose a reason."),
            "invalid_choice": _("%(value)s is not one of the configured reasons."),
        },
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional. Sent to the creator and shown on a rejected petition's page."),
    )
    duplicate_of = forms.IntegerField(
        label=_("Petition it duplicates"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("Optional: the number of the other petition, which this one's page then links to."),
    )


class FlagForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. Why it needs a second look; moderators only."),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the note.")},
        help_text=_("Moderators only; kept in the petition's history."),
    )


class ResponseForm(forms.Form):
    summary = forms.CharField(
        label=pgettext_lazy("response", "Summary"),
        max_length=500,
        error_messages={"required": _("Write a one-line summary.")},
    )
    details = forms.CharField(
        label=_("Details"),
        max_length=RESPONSE_DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": _("Write the response.")},
        help_text=_("Published on the petition's page and e-mailed to signers who asked for updates."),
    )


class SearchForm(forms.Form):
    # CharField already refuses NUL characters, which PostgreSQL cannot store or compare.
    q = forms.CharField(max_length=200, required=False)


REASON_MAX_LENGTH = 500


# A reason is stored in the clear beside the petition it names (StaffAccess, SearchApproval):
# whoever writes "jane@example.org says she never signed" puts the person in every dump.
_PERSONAL_IN_REASON = re.compile(
    r"[^\s@]+@[^\s@]+\.[^\s@]+|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b", re.I
)
REASON_HELP = _("Cite a case or ticket; no e-mail address, name or IP address: the reason is kept in the clear.")


def reason_without_personal_data(reason: str, *, term: str = "") -> str | None:
    """An error message if ``reason`` holds an e-mail or IP address, or the search's term."""
    if _PERSONAL_IN_REASON.search(reason) or (term and term.casefold() in reason.casefold()):
        return gettext("Keep personal data out of the reason (it is kept in the clear): cite a case or ticket instead.")
    return None


class SignerSearchForm(forms.Form):
    """A search of signers by personal data. POSTed, never in a URL: the terms would land in
    browser history and access logs. ``approvals``: the moderator's usable approvals."""

    kind = forms.ChoiceField(choices=SignerSearchKind.choices, label=_("Search by"))
    term = forms.CharField(
        max_length=254,
        label=_("Look for"),
        error_messages={"required": _("Type what to look for.")},
        help_text=_("An exact e-mail address, part of a name, or an address or range such as 203.0.113.0/24."),
    )
    petition = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        label=_("Petition number"),
        help_text=_("Leave empty to search all petitions (needs a second moderator's approval)."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=format_lazy(
            "{} {}", _("Why you need this search. It is recorded with your name; the terms are not."), REASON_HELP
        ),
    )
    approval = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=_("Approval"))

    def __init__(self, *args, approvals: list[SearchApproval], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(a.pk, f"#{a.pk}: {a.get_kind_display()} — {a.reason[:60]}") for a in approvals]
        self.fields["approval"].choices = [("", gettext("None: search one petition"))] + choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        kind, term = data.get("kind"), (data.get("term") or "").strip()
        if kind == SignerSearchKind.EMAIL and term:
            try:
                validate_email(term)
            except ValidationError:
                self.add_error("term", gettext("Enter a whole e-mail address: the search finds exact addresses only."))
        if kind == SignerSearchKind.NETWORK and term:
            try:
                ip_network(term, strict=False)
            except ValueError:
                self.add_error("term", gettext("Enter an IP address or a range such as 203.0.113.0/24."))
        data["term"] = term
        if data.get("petition") is not None and not (data.get("reason") or "").strip():
            self.add_error("reason", gettext("State why you need this search."))
        if error := reason_without_personal_data(data.get("reason") or "", term=term):
            self.add_error("reason", error)
        if data.get("petition") is None and data.get("approval") is None:
            self.add_error(
                "approval",
                gettext("A search across all petitions needs a second moderator's approval: request one below."),
            )
        return data


class SearchApprovalRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=SignerSearchKind.choices, label=_("Search by"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("State why you need this search.")},
        help_text=format_lazy(
            "{} {}", _("A second moderator reads it before approving; it is recorded with the search."), REASON_HELP
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        # Shown beside the search form, whose fields share these names: ids of their own, or
        # each label would name the search form's field.
        kwargs.setdefault("auto_id", "approval-%s")
        super().__init__(*args, **kwargs)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        if error := reason_without_personal_data(reason):
            raise forms.ValidationError(error)
        return reason

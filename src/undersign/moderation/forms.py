from __future__ import annotations

from django import forms

from undersign.core.reference import rejection_reasons

NOTE_MAX_LENGTH = 5000
RESPONSE_DETAILS_MAX_LENGTH = 20_000


def _reason_choices() -> list[tuple[str, str]]:
    # A callable: the list comes from REJECTION_REASONS_FILE, read when a form is built.
    return [("", "Choose a reason")] + [
        (reason.code, f"{reason.title}{' (hides the text)' if reason.hidden else ''}") for reason in rejection_reasons()
    ]


class ReasonForm(forms.Form):
    """Reject or take down: a configured reason, and optional words for the creator."""

    reason = forms.ChoiceField(
        choices=_reason_choices,
        error_messages={
            "required": "Choose a reason.",
            "invalid_choice": "%(value)s is not one of the configured reasons.",
        },
    )
    details = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional. Sent to the creator and shown on a rejected petition's page.",
    )


class FlagForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional. Why it needs a second look; moderators only.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the note."},
        help_text="Moderators only; kept in the petition's history.",
    )


class ResponseForm(forms.Form):
    summary = forms.CharField(
        max_length=500,
        error_messages={"required": "Write a one-line summary."},
    )
    details = forms.CharField(
        max_length=RESPONSE_DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Write the response."},
        help_text="Published on the petition's page and e-mailed to signers who asked for updates.",
    )


class SearchForm(forms.Form):
    # CharField already refuses NUL characters, which PostgreSQL cannot store or compare.
    q = forms.CharField(max_length=200, required=False)

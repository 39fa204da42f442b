from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from undersign.signatures.forms import SignerForm
from undersign.signatures.models import Display


class PlainTextField(forms.CharField):
    """Counts a line break as one character, as the browser's counter does (forms post CRLF)."""

    def to_python(self, value: object) -> str:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n")


class PetitionTextForm(forms.Form):
    action = PlainTextField(
        label="What do you want us to do?",
        help_text="A clear action, in one sentence.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    background = PlainTextField(
        label="Background", help_text="Why are you asking for this?", widget=forms.Textarea(attrs={"rows": 4})
    )
    additional_details = PlainTextField(
        label="Additional details",
        help_text="Anything else readers should know (optional).",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limits = {
            "action": settings.ACTION_MAX_LENGTH,
            "background": settings.BACKGROUND_MAX_LENGTH,
            "additional_details": settings.ADDITIONAL_DETAILS_MAX_LENGTH,
        }
        for name, limit in limits.items():
            field = self.fields[name]
            field.max_length = limit
            field.validators.append(MaxLengthValidator(limit))
            field.widget.attrs["maxlength"] = str(limit)
            field.widget.attrs["data-limit"] = str(limit)
            field.error_messages["max_length"] = f"{field.label} must be {limit} characters or fewer."
        self.fields["action"].error_messages["required"] = "Tell us what you want us to do."
        self.fields["background"].error_messages["required"] = "Tell us why you are asking for this."


class CreatorForm(SignerForm):
    display = forms.ChoiceField(
        label="Show your name as the petition's creator?",
        choices=[(Display.NAMED, "Yes, show my name and region"), (Display.COUNTED, "No, do not show my name")],
        initial=Display.NAMED,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose whether to show your name."},
    )
    notify_updates = forms.BooleanField(label="E-mail me updates about this petition", required=False, initial=True)

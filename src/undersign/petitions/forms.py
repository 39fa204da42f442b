from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from undersign.core.http import parse_page
from undersign.petitions.search import language_active, petition_languages
from undersign.petitions.selectors import LIST_FILTERS, MAX_QUERY_LENGTH
from undersign.petitions.services import has_line_break


class PlainTextField(forms.CharField):
    """Counts a line break as one character, as the browser's counter does (forms post CRLF)."""

    def to_python(self, value: object) -> str:
        text = super().to_python(value)
        assert text is not None, "empty_value is left at its default, so CharField gives a str"
        return text.replace("\r\n", "\n").replace("\r", "\n")


class PetitionTextForm(forms.Form):
    action = PlainTextField(
        label=_("What do you want us to do?"),
        help_text=_("A clear action, in one sentence."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    background = PlainTextField(
        label=_("Background"), help_text=_("Why are you asking for this?"), widget=forms.Textarea(attrs={"rows": 4})
    )
    additional_details = PlainTextField(
        label=_("Additional details"),
        help_text=_("Anything else readers should know (optional)."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    language = forms.ChoiceField(
        label=_("Language of the petition"),
        help_text=_("The language you write it in: search finds its words in every form."),
        error_messages={"invalid_choice": _("Choose the language the petition is written in.")},
        # Absent (a client that predates the field, a draft saved before it): the page's language.
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = petition_languages()
        # The page's language (chosen by its URL) is the likeliest one the creator writes in.
        language.initial = language_active()
        limits = {
            "action": settings.ACTION_MAX_LENGTH,
            "background": settings.BACKGROUND_MAX_LENGTH,
            "additional_details": settings.ADDITIONAL_DETAILS_MAX_LENGTH,
        }
        for name, limit in limits.items():
            field = self.fields[name]
            assert isinstance(field, forms.CharField), "the three text fields are PlainTextFields"
            field.max_length = limit
            field.validators.append(MaxLengthValidator(limit))
            field.widget.attrs["maxlength"] = str(limit)
            field.widget.attrs["data-limit"] = str(limit)
            field.error_messages["max_length"] = ngettext(
                "%(field)s must be %(limit)d characters or fewer.",
                "%(field)s must be %(limit)d characters or fewer.",
                limit,
            ) % {"field": field.label, "limit": limit}
        self.fields["action"].error_messages["required"] = _("Tell us what you want us to do.")
        self.fields["background"].error_messages["required"] = _("Tell us why you are asking for this.")

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or language_active()

    def clean_action(self) -> str:
        action = self.cleaned_data["action"]
        if has_line_break(action):
            raise forms.ValidationError(_("Write the action on one line, without line breaks."), code="line_break")
        return action


def list_params(request: HttpRequest) -> tuple[str, str, int] | None:
    """``state``, ``q`` and ``page`` of a list request, or None when any is malformed."""
    state = request.GET.get("state", "all")
    query = request.GET.get("q", "")
    page = parse_page(request.GET.get("page", "1"))
    if state not in LIST_FILTERS or len(query) > MAX_QUERY_LENGTH or "\x00" in query or page is None:
        return None
    return state, query, page

"""The petitions app's own words in Russian (issue 13): the text form's labels and errors, the
states, the list filters and the thresholds a count is heading for."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.factories import make_petition
from undersign.petitions.forms import PetitionTextForm
from undersign.petitions.models import Petition, PetitionState, Transition
from undersign.petitions.selectors import FILTER_LABELS, threshold_progress
from undersign.petitions.services import TransitionRefused


def test_the_text_forms_labels_and_errors():
    with translation.override("ru"):
        form = PetitionTextForm({"action": "Одна\nдве строки", "background": ""})
        assert not form.is_valid()
        assert str(form["action"].label) == "Что вы предлагаете сделать?"
        assert str(form["background"].help_text) == "Почему вы этого просите?"
        assert form.errors["action"] == ["Напишите требование одной строкой, без переносов."]
        assert form.errors["background"] == ["Укажите, почему вы этого просите."]
    with translation.override("en"):
        form = PetitionTextForm({"action": "", "background": ""})
        assert not form.is_valid() and form.errors["action"] == ["Tell us what you want us to do."]


@pytest.mark.parametrize(
    ("limit", "words"), [(1, "1 символа"), (2, "2 символов"), (5, "5 символов"), (21, "21 символа")]
)
def test_the_length_limit_takes_the_russian_plural(settings, limit, words):
    settings.BACKGROUND_MAX_LENGTH = limit
    with translation.override("ru"):
        form = PetitionTextForm({"action": "Посадить деревья", "background": "д" * (limit + 1)})
        assert not form.is_valid()
        assert form.errors["background"] == [f"Поле «Обоснование» должно содержать не более {words}."]


def test_the_length_limit_in_english_is_unchanged(settings):
    settings.BACKGROUND_MAX_LENGTH = 20
    with translation.override("en"):
        form = PetitionTextForm({"action": "Plant trees", "background": "x" * 21})
        assert form.errors["background"] == ["Background must be 20 characters or fewer."]


def test_states_filters_and_transitions_have_their_own_russian_forms():
    with translation.override("ru"):
        assert PetitionState.OPEN.label == "Открыта" and str(FILTER_LABELS["open"]) == "Открытые"
        assert PetitionState.HIDDEN.label == "Отклонена и скрыта" and str(FILTER_LABELS["rejected"]) == "Отклонённые"
        assert Transition.CLOSE.label == "Закрыта"
        assert all(not any("a" <= c <= "z" for c in str(label).lower()) for label in PetitionState.labels)
    with translation.override("en"):
        assert PetitionState.OPEN.label == "Open" and str(FILTER_LABELS["awaiting_response"]) == "Awaiting a response"


@pytest.mark.django_db
def test_the_next_threshold_is_named_in_russian():
    petition = make_petition()
    with translation.override("ru"):
        assert threshold_progress(petition=petition).label == "ответа"
    with translation.override("en"):
        assert threshold_progress(petition=petition).label == "a response"


def test_a_refused_transition_says_so_in_russian():
    petition = Petition(pk=7, state=PetitionState.CLOSED)
    with translation.override("ru"):
        refused = TransitionRefused(petition, PetitionState.OPEN)
    assert refused.message == "Петиция 7 не может перейти из состояния «closed» в состояние «open»."
    with translation.override("en"):
        assert TransitionRefused(petition, PetitionState.OPEN).message == "Petition 7 cannot go from closed to open."

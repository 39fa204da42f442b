"""The mistyped-address guard's suggestions (core.addresses)."""

import pytest

from undersign.core.addresses import address_suggestion, edit_distance


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("suzie@gmial.com", "suzie@gmail.com"),  # two letters swapped: one slip
        ("suzie@gmail.con", "suzie@gmail.com"),
        ("suzie@gnail.co", "suzie@gmail.com"),  # two slips in a long name
        ("ksenia@yandex.ri", "ksenia@yandex.ru"),
        ("ksenia@mail.ry", "ksenia@mail.ru"),
        ("Suzie.Name@HOTMIAL.COM", "Suzie.Name@hotmail.com"),  # the local part is kept as typed
    ],
)
def test_a_near_miss_of_a_common_domain_is_suggested(typed, meant):
    assert address_suggestion(typed) == meant


@pytest.mark.parametrize(
    "typed",
    ["suzie@gmail.com", "suzie@example.org", "suzie@council.example", "ksenia@yahoo.fr", "no-at-sign", "@gmial.com"],
)
def test_common_unrelated_and_malformed_addresses_get_no_suggestion(typed):
    assert address_suggestion(typed) is None


def test_two_slips_in_a_short_name_are_too_far_to_guess():
    assert edit_distance("xy.ru", "ya.ru") == 2
    assert address_suggestion("a@xy.ru") is None


def test_a_swap_of_neighbours_counts_as_one_edit():
    assert edit_distance("gmial", "gmail") == 1
    assert edit_distance("", "abc") == 3

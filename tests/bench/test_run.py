"""The benchmark runner's own arithmetic and arguments (bench/run.py): the figures issue 16's
table is read from, so a wrong formula or a silently ignored phase would mislead."""

import argparse

import pytest
from bench.run import connection_counts, parse_args, sharing


def test_sharing_adds_the_three_phases_times_per_signature():
    # 1/(1/1000 + 1/600 + 1/800): the targets give about 255/s.
    assert sharing(1000, 600, 800) == pytest.approx(255.3, abs=0.1)


def test_sharing_of_a_phase_that_did_nothing_is_zero_not_an_error():
    assert sharing(300, 0, 100) == 0.0


def test_connections_run_each_listed_round():
    assert connection_counts("8,32") == [8, 32]
    assert parse_args([]).connections == [8, 32]


@pytest.mark.parametrize("value", ["", "8,x", "0", "8,-1"])
def test_connections_refuse_what_is_not_a_list_of_positive_numbers(value):
    with pytest.raises(argparse.ArgumentTypeError):
        connection_counts(value)


def test_an_unknown_phase_is_refused_not_skipped():
    with pytest.raises(SystemExit):
        parse_args(["--phases", "intake,minimal_post"])


def test_minimal_post_and_limits_off_are_phases():
    assert parse_args(["--phases", "minimal-post,limits-off"]).phases == "minimal-post,limits-off"

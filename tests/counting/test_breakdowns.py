"""The publication rule of breakdowns (``counting.breakdowns``), on its own: what any counts and
any draws may publish."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from undersign.counting.breakdowns import (
    SnapshotDraws,
    breakdown_parts,
    publish_counts,
    register_breakdown_part,
)

K = 5
CELLS = [f"R{n:02d}" for n in range(13)]
counts_strategy = st.fixed_dictionaries({cell: st.integers(0, 60) for cell in CELLS})
draws_strategy = st.dictionaries(
    st.tuples(st.sampled_from(CELLS), st.sampled_from(["threshold", "round"])), st.floats(0, 0.999999)
)


def from_table(table: dict[tuple[str, str], float]):
    return lambda cell, purpose: table.get((cell, purpose), 0.5)


class TestThePublicationRule:
    @given(counts=counts_strategy, table=draws_strategy)
    def test_every_cell_is_listed_and_small_ones_are_suppressed(self, counts, table):
        published = publish_counts(counts, k=K, draw=from_table(table))
        assert set(published) == set(counts)
        for cell, count in counts.items():
            if count < K:
                assert published[cell] is None

    @given(counts=counts_strategy, table=draws_strategy)
    def test_shown_figures_are_multiples_of_k_within_k_of_the_truth(self, counts, table):
        published = publish_counts(counts, k=K, draw=from_table(table))
        for cell, figure in published.items():
            if figure is not None:
                assert figure >= K and figure % K == 0
                assert abs(figure - counts[cell]) < K
                if counts[cell] % K == 0:
                    assert figure == counts[cell]

    @given(counts=counts_strategy, table=draws_strategy)
    def test_the_suppressed_cells_hold_at_least_k_together(self, counts, table):
        published = publish_counts(counts, k=K, draw=from_table(table))
        hidden = [cell for cell, figure in published.items() if figure is None]
        shown = [cell for cell in published if cell not in hidden]
        if hidden and shown:
            assert sum(counts[cell] for cell in hidden) >= K

    def test_a_lone_small_cell_takes_the_smallest_shown_one_with_it(self):
        always = lambda cell, purpose: 0.0  # noqa: E731 - thresholds at k, rounding up
        counts = {"A": 30, "B": 12, "C": 2}
        assert publish_counts(counts, k=K, draw=always) == {"A": 30, "B": None, "C": None}
        counts = {"A": 30, "B": 12, "C": 2, "D": 3}  # hidden hold 5: enough
        assert publish_counts(counts, k=K, draw=always) == {"A": 30, "B": 15, "C": None, "D": None}
        assert publish_counts({"A": 3, "B": 1}, k=K, draw=always) == {"A": None, "B": None}

    @pytest.mark.parametrize("count", [5, 6, 7, 8, 9])
    def test_the_threshold_between_k_and_2k_is_drawn(self, count):
        shown = [
            publish_counts({"A": count, "B": 40, "C": 7}, k=K, draw=lambda c, p, u=u: u / K)["A"] for u in range(K)
        ]
        # Shown for the draws whose threshold k + h it reaches: count - k + 1 of the k thresholds.
        assert sum(figure is not None for figure in shown) == count - K + 1

    @pytest.mark.parametrize("count", [5, 7, 12, 23, 49])
    def test_rounding_is_unbiased(self, count):
        # Over an even grid of draws, the rounded figures average to the true count exactly.
        grid = 1000
        figures = [
            publish_counts({"A": count, "B": 40}, k=K, draw=lambda c, p, u=u: 0.0 if p == "threshold" else u / grid)
            for u in range(grid)
        ]
        assert sum(f["A"] for f in figures) / grid == count


class TestDraws:
    def test_fixed_within_a_snapshot_fresh_in_the_next(self):
        petition = uuid.uuid4()
        first, again, second = SnapshotDraws(petition, 1), SnapshotDraws(petition, 1), SnapshotDraws(petition, 2)
        assert first("regions/A", "round") == again("regions/A", "round")
        assert first("regions/A", "round") != second("regions/A", "round")
        assert first("regions/A", "round") != first("regions/A", "threshold")
        assert first("regions/A", "round") != first("regions/B", "round")
        assert first("regions/A", "round") != SnapshotDraws(uuid.uuid4(), 1)("regions/A", "round")
        assert all(0 <= SnapshotDraws(petition, n)("x", "round") < 1 for n in range(1, 50))

    def test_keyed_by_the_sites_secret(self, settings):
        petition = uuid.uuid4()
        before = SnapshotDraws(petition, 1)("regions/A", "round")
        settings.SECRET_KEY = "another site entirely"
        assert SnapshotDraws(petition, 1)("regions/A", "round") != before


class TestPartsRegistry:
    def test_a_part_registers_once_under_its_name(self):
        def collect(petition, publish):
            return {}

        register_breakdown_part("test-part-once", collect)
        register_breakdown_part("test-part-once", collect)  # AppConfig.ready may run twice
        assert breakdown_parts()["test-part-once"] is collect
        with pytest.raises(ValueError, match="registered already"):
            register_breakdown_part("test-part-once", lambda petition, publish: {})

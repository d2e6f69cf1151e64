"""Sequence descriptives against hand counts, weighted and unweighted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laborseq import CareerPanel, OccupationScheme
from laborseq.panel.descriptives import (
    display_level,
    index_order,
    mean_time_in_state,
    person_weights,
    state_distribution,
    transition_rates,
    transversal_entropy,
)

SCHEME = OccupationScheme(name="abc", codes=("a", "b", "c"), groups={"kind": {"a": "ab", "b": "ab", "c": "c"}})


def small_panel(weighted: bool = True) -> CareerPanel:
    """Three persons: p1 a a b (2000-02), p2 b . b c (2000, 2002, 2003: a gap), p3 c a (2001-02)."""
    rows = [
        (1, 2000, "a", 1980, 2.0),
        (1, 2001, "a", 1980, 2.0),
        (1, 2002, "b", 1980, 2.0),
        (2, 2000, "b", 1975, 1.0),
        (2, 2002, "b", 1975, 1.0),
        (2, 2003, "c", 1975, 1.0),
        (3, 2001, "c", 1981, 3.0),
        (3, 2002, "a", 1981, 5.0),
    ]
    frame = pd.DataFrame(rows, columns=["person_id", "year", "occ", "birth_year", "weight"])
    if not weighted:
        return CareerPanel(frame.drop(columns="weight"), covariates=["birth_year"], scheme=SCHEME)
    return CareerPanel(frame, covariates=["birth_year"], weight="weight", scheme=SCHEME)


def test_state_distribution_by_period_is_the_hand_count():
    dist = state_distribution(small_panel(), weights="weight")
    # 2000: p1 a (2), p2 b (1); 2001: p1 a (2), p3 c (3); 2002: p1 b (2), p2 b (1), p3 a (5); 2003: p2 c (1)
    expected = pd.DataFrame(
        [[2 / 3, 1 / 3, 0], [2 / 5, 0, 3 / 5], [5 / 8, 3 / 8, 0], [0, 0, 1]],
        index=pd.Index([2000, 2001, 2002, 2003], name="period"),
        columns=["a", "b", "c"],
    )
    pd.testing.assert_frame_equal(dist.shares, expected)
    assert dist.persons.tolist() == [2, 2, 3, 1]
    assert dist.weight.tolist() == [3.0, 5.0, 8.0, 1.0]
    assert dist.weighted
    unweighted = state_distribution(small_panel(weighted=False))
    np.testing.assert_allclose(unweighted.shares.loc[2002], [1 / 3, 2 / 3, 0])
    assert not unweighted.weighted and unweighted.weight.tolist() == [2, 2, 3, 1]


def test_state_distribution_by_age_and_position():
    by_age = state_distribution(small_panel(weighted=False), by="age")
    # ages: p1 20, 21, 22; p2 25, 27, 28; p3 20, 21
    assert by_age.shares.index.tolist() == [20, 21, 22, 25, 27, 28]
    np.testing.assert_allclose(by_age.shares.loc[20], [0.5, 0, 0.5])  # p1 a, p3 c
    np.testing.assert_allclose(by_age.shares.loc[21], [1, 0, 0])  # p1 a, p3 a
    by_position = state_distribution(small_panel(), by="position", weights="weight")
    assert by_position.shares.index.tolist() == [1, 2, 3]
    np.testing.assert_allclose(by_position.shares.loc[1], [2 / 6, 1 / 6, 3 / 6])  # a (2), b (1), c (3)
    np.testing.assert_allclose(by_position.shares.loc[2], [7 / 8, 1 / 8, 0])  # p1 a (2), p2 b (1), p3 a (5)
    np.testing.assert_allclose(by_position.shares.loc[3], [0, 2 / 3, 1 / 3])  # p1 b (2), p2 c (1)


def test_age_needs_a_birth_year_and_missing_ones_are_counted():
    frame = small_panel(weighted=False).data.drop(columns="birth_year")
    with pytest.raises(ValueError, match="birth_year"):
        state_distribution(CareerPanel(frame, scheme=SCHEME), by="age")
    frame = small_panel(weighted=False).data.copy()
    frame["birth_year"] = frame["birth_year"].astype(float)
    frame.loc[frame["person_id"] == 3, "birth_year"] = np.nan
    dist = state_distribution(CareerPanel(frame, covariates=["birth_year"], scheme=SCHEME), by="age")
    assert dist.rows_without_time == 2 and int(dist.persons.sum()) == 6
    with pytest.raises(ValueError, match="by must be one of"):
        state_distribution(small_panel(), by="month")


def test_entropy_is_shannon_over_log_k():
    panel = small_panel()
    h = transversal_entropy(panel, weights="weight")
    p = np.array([2 / 3, 1 / 3])
    assert h.loc[2000] == pytest.approx(-(p * np.log(p)).sum() / np.log(3))
    assert h.loc[2003] == 0.0
    raw = transversal_entropy(panel, weights="weight", normalize=False)
    assert raw.loc[2000] == pytest.approx(-(p * np.log(p)).sum())
    uniform = CareerPanel(pd.DataFrame({"person_id": [1, 2, 3], "year": 2000, "occ": ["a", "b", "c"]}), scheme=SCHEME)
    assert transversal_entropy(uniform).loc[2000] == pytest.approx(1.0)


def test_transition_rates_are_hand_counts_with_origin_weights():
    rates = transition_rates(small_panel(), weights="weight")
    # transitions: p1 a->a (w2), a->b (w2); p2 b->b (w1, a two-year gap), b->c (w1); p3 c->a (w3)
    expected_counts = pd.DataFrame([[1, 1, 0], [0, 1, 1], [1, 0, 0]], index=["a", "b", "c"], columns=["a", "b", "c"])
    np.testing.assert_array_equal(rates.counts.to_numpy(), expected_counts.to_numpy())
    np.testing.assert_allclose(rates.rates.to_numpy(), [[0.5, 0.5, 0], [0, 0.5, 0.5], [1, 0, 0]])
    assert rates.origin_weight.tolist() == [4.0, 2.0, 3.0]
    adjacent = transition_rates(small_panel(weighted=False), max_gap=1)
    assert adjacent.skipped == 1 and adjacent.counts.loc["b", "b"] == 0
    np.testing.assert_allclose(adjacent.rates.loc["b"], [0, 0, 1])
    with pytest.raises(ValueError, match="max_gap"):
        transition_rates(small_panel(), max_gap=0)


def test_transition_weights_change_the_rates():
    panel = small_panel()
    heavy = np.where(panel.data["person_id"].to_numpy() == 2, 9.0, 1.0)
    rates = transition_rates(panel, weights=heavy)
    np.testing.assert_allclose(rates.rates.loc["b"], [0, 0.5, 0.5])  # only p2 leaves b
    np.testing.assert_allclose(rates.rates.loc["a"], [0.5, 0.5, 0])
    assert rates.origin_weight.loc["b"] == 18.0


def test_mean_time_in_state_weights_whole_persons():
    panel = small_panel()
    np.testing.assert_array_equal(person_weights(panel, "weight"), [2.0, 1.0, 3.0])  # first rows' weights
    frame = mean_time_in_state(panel, weights="weight")
    # a: p1 2 periods (w2), p3 1 (w3); b: p1 1 (w2), p2 2 (w1); c: p2 1 (w1), p3 1 (w3); total weight 6
    np.testing.assert_allclose(frame["mean_periods"], [(4 + 3) / 6, (2 + 2) / 6, (1 + 3) / 6])
    assert frame["mean_periods"].sum() == pytest.approx((3 * 2 + 3 * 1 + 2 * 3) / 6)  # mean sequence length
    np.testing.assert_allclose(frame["share"].sum(), 1.0)
    unweighted = mean_time_in_state(panel)
    np.testing.assert_allclose(unweighted["mean_periods"], [3 / 3, 3 / 3, 2 / 3])


def test_index_order_rules():
    panel = small_panel()  # first states: p1 a, p2 b, p3 c; lengths 3, 3, 2
    np.testing.assert_array_equal(index_order(panel, "first_state"), [0, 1, 2])
    frame = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 3, 3, 3, 4, 4],
            "year": [2000, 2001, 2000, 2000, 2001, 2002, 2000, 2001],
            "occ": ["b", "a", "b", "b", "c", "c", "a", "c"],
        }
    )
    panel = CareerPanel(frame, scheme=SCHEME)
    # first_state: p4 (a) first; then the b starters, longer first: p3 (3), p1 (2), p2 (1)
    np.testing.assert_array_equal(index_order(panel, "first_state"), [3, 2, 0, 1])
    # from_start: a c | b (ends) | b a | b c c
    np.testing.assert_array_equal(index_order(panel, "from_start"), [3, 1, 0, 2])
    with pytest.raises(ValueError, match="sort"):
        index_order(panel, "length")


def test_to_wide_has_one_row_per_person_and_the_weights():
    wide = small_panel().to_wide()
    assert wide.index.tolist() == [1, 2, 3]
    assert wide.columns.tolist() == [2000, 2001, 2002, 2003, "weight"]
    assert [wide.loc[2, y] for y in (2000, 2002, 2003)] == ["b", "b", "c"] and pd.isna(wide.loc[2, 2001])
    assert wide.loc[1, 2002] == "b" and pd.isna(wide.loc[1, 2003])
    assert wide["weight"].tolist() == [2.0, 1.0, 3.0]
    assert "weight" not in small_panel(weighted=False).to_wide().columns


def test_display_level_coarsens_only_large_schemes():
    assert display_level(small_panel()) is None
    assert display_level(small_panel(), max_states=2) == "kind"
    assert display_level(small_panel(), max_states=1) is None  # no level fits


# ---------------------------------------------------------------------------------------------- studies and figures


def test_describe_sequences_groups_large_schemes_weights_and_samples():
    from laborseq.report.document import Figure
    from laborseq.report.sequences import sequence_blocks
    from laborseq.studies.sequences import describe_sequences

    panel = small_panel()
    full = describe_sequences(panel)
    assert full.weighted and full.level is None and list(full.entropy) == ["weighted", "unweighted"]
    pd.testing.assert_frame_equal(full.distribution.shares, state_distribution(panel, weights="weight").shares)
    np.testing.assert_array_equal(full.index.heights, [2.0, 1.0, 3.0])
    grouped = describe_sequences(panel, weighted=False, max_states=2, index_persons=2)
    assert grouped.level == "kind" and list(grouped.distribution.shares.columns) == ["ab", "c"]
    assert list(grouped.entropy) == ["unweighted"] and grouped.index_sample == 2 and len(grouped.index.persons) == 2
    np.testing.assert_allclose(grouped.distribution.shares.loc[2002], [1.0, 0.0])
    with pytest.raises(ValueError, match="no survey weights"):
        describe_sequences(small_panel(weighted=False), weighted=True)
    names = [block.name for block in sequence_blocks(full) if isinstance(block, Figure)]
    assert names == ["chronogram", "index_plot", "entropy"]


def test_index_plot_data_places_each_state_at_its_time_point():
    from laborseq.panel.descriptives import index_plot_data

    data = index_plot_data(small_panel(), sort="from_start")
    assert data.time.tolist() == [2000, 2001, 2002, 2003]
    # from_start: p1 (a a b), p2 (b b c), p3 (c a); columns 2000..2003, -1 where not observed
    np.testing.assert_array_equal(data.persons, [1, 2, 3])
    np.testing.assert_array_equal(data.states, [[0, 0, 1, -1], [1, -1, 1, 2], [-1, 2, 0, -1]])

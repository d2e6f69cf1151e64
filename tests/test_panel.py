"""Tests for laborseq.panel.CareerPanel: validation, views, splits, description and parquet I/O."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import CareerPanel, PanelValidationError

# ---------------------------------------------------------------------- fixtures


def raw_frame() -> pd.DataFrame:
    """Two persons, shuffled rows, non-default column names and index labels.

    Sorted, the panel is::

        person 3: 1980 c, 1981 a
        person 7: 1980 a, 1981 unemployed, 1984 b    (gap of 3 years)
    """
    return pd.DataFrame(
        {
            "pid": [7, 3, 7, 3, 7],
            "yr": [1984, 1981, 1980, 1980, 1981],
            "job": ["b", "a", "a", "c", "unemployed"],
            "race": pd.Series(["x", "y", "x", "y", "x"], dtype=object),
            "edu": pd.Categorical(["col", "hs", "hs", "hs", "hs"], categories=["hs", "col"], ordered=True),
            "age": [34, 21, 30, 20, 31],
            "w": [1.5, 2.0, 1.5, 2.0, 1.5],
        },
        index=[10, 11, 12, 13, 14],
    )


def build(frame: pd.DataFrame | None = None, **kwargs) -> CareerPanel:
    kwargs = {"person": "pid", "year": "yr", "occ": "job", **kwargs}
    return CareerPanel(raw_frame() if frame is None else frame, **kwargs)


@pytest.fixture
def panel() -> CareerPanel:
    return build(covariates=["race", "edu", "age"], weight="w", name="toy", metadata={"source": "hand"})


def scheme4() -> OccupationScheme:
    return OccupationScheme(
        name="four",
        codes=("10", "20", "30", "40"),
        titles={"10": "Ten"},
        groups={"major": {"10": "A", "20": "A", "30": "B"}},
        status_tokens=("unemployed",),
        variant="v",
        source="test",
    )


def split_frame() -> pd.DataFrame:
    """Four persons around the origin 1981.

    person 1: 1980, 1981, 1983   (history and future)
    person 2: 1979, 1980         (only up to the origin)
    person 3: 1982, 1984         (only after the origin)
    person 4: 1981, 1982         (one row on each side)
    """
    return pd.DataFrame(
        {
            "person_id": [1, 1, 1, 2, 2, 3, 3, 4, 4],
            "year": [1980, 1981, 1983, 1979, 1980, 1982, 1984, 1981, 1982],
            "occ": ["10", "20", "20", "30", "unemployed", "40", "10", "10", "30"],
            "race": pd.Categorical(["w", "w", "w", "b", "b", "w", "w", "b", "b"]),
            "edu": pd.Categorical(
                ["hs", "col", "col", "hs", None, "hs", "hs", "col", "col"], categories=["hs", "col"], ordered=True
            ),
            "wt": [1.0, 1.0, 1.0, 0.5, 0.5, 2.0, 2.0, 0.0, 0.0],
        }
    )


def split_panel() -> CareerPanel:
    return CareerPanel(
        split_frame(),
        covariates=["race", "edu"],
        weight="wt",
        scheme=scheme4(),
        name="splits",
        metadata={"source": "unit test", "lineage": {"rows_read": 9, "dropped": {}}, "ratio": 0.5},
    )


def many_persons_panel(n: int = 23) -> CareerPanel:
    rows = [
        {"person_id": 100 + p, "year": 2000 + t, "occ": str((p + t) % 3)} for p in range(n) for t in range(1 + p % 3)
    ]
    return CareerPanel(pd.DataFrame(rows))


def person_set(panel: CareerPanel) -> set[int]:
    return {int(p) for p in panel.persons}


# ---------------------------------------------------------------------- construction


def test_canonical_columns_and_dtypes(panel: CareerPanel) -> None:
    data = panel.data
    assert list(data.columns) == ["person_id", "year", "occ", "race", "edu", "age", "weight"]
    assert data["person_id"].dtype == np.int64
    assert data["year"].dtype == np.int16
    assert isinstance(data["occ"].dtype, pd.CategoricalDtype)
    assert list(data["occ"].cat.categories) == list(panel.scheme.states)
    assert data["weight"].dtype == np.float64
    assert data["age"].dtype == np.int64
    assert isinstance(data["race"].dtype, pd.CategoricalDtype)  # object strings become categorical
    assert data["edu"].cat.ordered
    assert list(data["edu"].cat.categories) == ["hs", "col"]
    assert isinstance(data.index, pd.RangeIndex)


def test_rows_sorted_by_person_then_year(panel: CareerPanel) -> None:
    data = panel.data
    assert data["person_id"].tolist() == [3, 3, 7, 7, 7]
    assert data["year"].tolist() == [1980, 1981, 1980, 1981, 1984]
    assert data["occ"].astype(str).tolist() == ["c", "a", "a", "unemployed", "b"]
    assert data["age"].tolist() == [20, 21, 30, 31, 34]
    assert data["weight"].tolist() == [2.0, 2.0, 1.5, 1.5, 1.5]


def test_inferred_scheme_puts_status_tokens_last(panel: CareerPanel) -> None:
    assert panel.scheme.codes == ("a", "b", "c")
    assert panel.scheme.status_tokens == ("unemployed",)
    assert panel.states == ("a", "b", "c", "unemployed")
    assert panel.scheme.name == "toy"  # the panel name


def test_basic_properties(panel: CareerPanel) -> None:
    assert len(panel) == 5
    assert panel.n_persons == 2
    assert panel.persons.tolist() == [3, 7]
    assert panel.years.tolist() == [1980, 1981, 1984]
    assert panel.n_targets == 5
    assert panel.target_mask.tolist() == [True] * 5
    assert panel.has_weight
    np.testing.assert_array_equal(panel.weights, [2.0, 2.0, 1.5, 1.5, 1.5])
    assert panel.name == "toy"
    assert panel.metadata == {"source": "hand"}
    np.testing.assert_array_equal(panel.state_index(), [2, 0, 0, 3, 1])
    np.testing.assert_array_equal(panel.positions(), [0, 1, 0, 1, 2])


def test_panel_without_weight() -> None:
    panel = build()
    assert not panel.has_weight
    assert panel.weights is None
    assert list(panel.data.columns) == ["person_id", "year", "occ"]


def test_data_is_a_copy(panel: CareerPanel) -> None:
    data = panel.data
    data.loc[0, "year"] = 1999
    assert panel.data.loc[0, "year"] == 1980


def test_static_and_time_varying_are_inferred(panel: CareerPanel) -> None:
    assert panel.covariates == ("race", "edu", "age")
    assert panel.static_covariates == ("race",)
    assert panel.time_varying_covariates == ("edu", "age")


def test_explicit_static_overrides_inference() -> None:
    panel = build(covariates=["race", "edu"], static=[])
    assert panel.static_covariates == ()
    assert panel.time_varying_covariates == ("race", "edu")


def test_explicit_static_that_varies_raises_naming_column_and_person() -> None:
    with pytest.raises(PanelValidationError, match="'edu'") as info:
        build(covariates=["race", "edu"], static=["race", "edu"])
    err = info.value
    assert err.column == "edu"
    assert err.rows == [7]
    assert "[7]" in str(err)


def test_static_that_is_not_a_covariate_raises() -> None:
    with pytest.raises(PanelValidationError, match="not covariates"):
        build(covariates=["race"], static=["edu"])


def test_string_person_keys_and_integral_float_states() -> None:
    frame = pd.DataFrame({"person_id": ["b", "a", "a"], "year": [2001, 2002, 2001], "occ": [2.0, 10.0, 1.0]})
    panel = CareerPanel(frame)
    assert panel.data["person_id"].tolist() == ["a", "a", "b"]
    assert panel.states == ("1", "2", "10")
    assert panel.data["occ"].astype(str).tolist() == ["1", "10", "2"]


def test_non_dataframe_input_raises_type_error() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        CareerPanel({"person_id": [1], "year": [2000], "occ": ["a"]})  # type: ignore[arg-type]


def test_string_covariate_with_default_dtype_becomes_categorical() -> None:
    frame = pd.DataFrame({"person_id": [1, 1, 2], "year": [2000, 2001, 2000], "occ": ["a", "b", "a"]})
    frame["race"] = ["white", "white", "black"]  # default string dtype of the installed pandas
    panel = CareerPanel(frame, covariates=["race"])
    assert isinstance(panel.data["race"].dtype, pd.CategoricalDtype)


# ---------------------------------------------------------------------- validation errors


def assert_error(err: PanelValidationError, column: str, rows: list[int]) -> None:
    assert err.column == column
    assert f"'{column}'" in str(err)
    assert sorted(err.rows) == sorted(rows)
    for label in rows:
        assert str(label) in str(err)


def test_missing_column_raises() -> None:
    with pytest.raises(PanelValidationError) as info:
        build(covariates=["race", "salary"])
    err = info.value
    assert err.column == "salary"
    assert "'salary'" in str(err)
    assert "not found" in str(err)
    assert err.rows == []


def test_missing_core_column_raises() -> None:
    with pytest.raises(PanelValidationError) as info:
        build(occ="occupation")
    assert info.value.column == "occupation"
    assert "'occupation'" in str(info.value)


def test_duplicate_person_year_raises() -> None:
    frame = raw_frame()
    frame.loc[14, "yr"] = 1984  # person 7 now has two rows in 1984 (labels 10 and 14)
    with pytest.raises(PanelValidationError, match="duplicate person-year") as info:
        build(frame)
    err = info.value
    assert err.column == "yr"
    assert "'pid'" in str(err)
    assert "'yr'" in str(err)
    assert err.rows == [10, 14]
    assert "[10, 14]" in str(err)


def test_non_integer_year_raises() -> None:
    frame = raw_frame()
    frame["yr"] = frame["yr"].astype(float)
    frame.loc[12, "yr"] = 1980.5
    with pytest.raises(PanelValidationError, match="non-integer year") as info:
        build(frame)
    assert_error(info.value, "yr", [12])


def test_text_year_raises() -> None:
    frame = raw_frame()
    frame["yr"] = frame["yr"].astype(object)
    frame.loc[13, "yr"] = "abc"
    with pytest.raises(PanelValidationError, match="non-integer year") as info:
        build(frame)
    assert_error(info.value, "yr", [13])
    assert "abc" in str(info.value)


def test_numeric_text_years_are_accepted() -> None:
    frame = raw_frame()
    frame["yr"] = frame["yr"].astype(str)
    panel = build(frame)
    assert panel.data["year"].dtype == np.int16
    assert panel.data["year"].tolist() == [1980, 1981, 1980, 1981, 1984]


def test_missing_year_raises() -> None:
    frame = raw_frame()
    frame["yr"] = frame["yr"].astype(float)
    frame.loc[[11, 14], "yr"] = np.nan
    with pytest.raises(PanelValidationError, match="missing year") as info:
        build(frame)
    assert_error(info.value, "yr", [11, 14])


def test_two_digit_year_raises() -> None:
    frame = raw_frame()
    frame.loc[10, "yr"] = 85
    with pytest.raises(PanelValidationError, match="outside 1000-3000") as info:
        build(frame)
    assert_error(info.value, "yr", [10])
    assert "four-digit" in str(info.value)


def test_boolean_year_raises() -> None:
    frame = raw_frame()
    frame["yr"] = True
    with pytest.raises(PanelValidationError, match="boolean year") as info:
        build(frame)
    assert info.value.column == "yr"


def test_missing_person_key_raises() -> None:
    frame = raw_frame()
    frame["pid"] = frame["pid"].astype(float)
    frame.loc[13, "pid"] = np.nan
    with pytest.raises(PanelValidationError, match="missing person key") as info:
        build(frame)
    assert_error(info.value, "pid", [13])


def test_missing_text_person_key_raises() -> None:
    frame = raw_frame()
    frame["pid"] = pd.Series(["p7", "p3", None, "p3", "p7"], index=frame.index, dtype=object)
    with pytest.raises(PanelValidationError, match="missing person key") as info:
        build(frame)
    assert_error(info.value, "pid", [12])


def test_non_integer_numeric_person_key_raises() -> None:
    frame = raw_frame()
    frame["pid"] = frame["pid"].astype(float)
    frame.loc[11, "pid"] = 3.5
    with pytest.raises(PanelValidationError, match="non-integer numeric person key") as info:
        build(frame)
    assert_error(info.value, "pid", [11])


def test_missing_state_raises() -> None:
    frame = raw_frame()
    frame.loc[[12, 13], "job"] = None
    with pytest.raises(PanelValidationError, match="missing state") as info:
        build(frame)
    assert_error(info.value, "job", [12, 13])


def test_state_not_in_explicit_scheme_raises() -> None:
    scheme = OccupationScheme(name="ab", codes=("a", "b"), status_tokens=("unemployed",))
    with pytest.raises(PanelValidationError, match=r"\['c'\] not in scheme 'ab'") as info:
        build(scheme=scheme)
    assert_error(info.value, "job", [13])


def test_explicit_scheme_keeps_unused_states() -> None:
    scheme = OccupationScheme(name="abcd", codes=("d", "c", "b", "a"), status_tokens=("unemployed", "military"))
    panel = build(scheme=scheme)
    assert panel.scheme is scheme
    assert list(panel.data["occ"].cat.categories) == ["d", "c", "b", "a", "unemployed", "military"]
    np.testing.assert_array_equal(panel.state_index(), [1, 3, 3, 4, 2])


def test_negative_weight_raises() -> None:
    frame = raw_frame()
    frame.loc[11, "w"] = -0.5
    with pytest.raises(PanelValidationError, match="negative weight") as info:
        build(frame, weight="w")
    assert_error(info.value, "w", [11])


def test_missing_weight_raises() -> None:
    frame = raw_frame()
    frame.loc[[10, 12], "w"] = np.nan
    with pytest.raises(PanelValidationError, match="missing or non-numeric weight") as info:
        build(frame, weight="w")
    assert_error(info.value, "w", [10, 12])


def test_infinite_weight_raises() -> None:
    frame = raw_frame()
    frame.loc[14, "w"] = np.inf
    with pytest.raises(PanelValidationError, match="weight") as info:
        build(frame, weight="w")
    assert_error(info.value, "w", [14])


def test_zero_weight_is_allowed() -> None:
    frame = raw_frame()
    frame["w"] = 0.0
    assert build(frame, weight="w").weights.tolist() == [0.0] * 5


def test_non_boolean_target_raises() -> None:
    frame = raw_frame()
    frame["scored"] = [1, 0, 1, 1, 0]
    with pytest.raises(PanelValidationError, match="must be boolean") as info:
        build(frame, target="scored")
    err = info.value
    assert err.column == "scored"
    assert "'scored'" in str(err)
    assert err.rows == [10]


def test_nullable_boolean_target_without_missing_values_is_accepted() -> None:
    frame = raw_frame()
    frame["scored"] = pd.array([True, False, False, True, True], dtype="boolean")
    assert build(frame, target="scored").target_mask.tolist() == [True, False, False, True, True]


def test_missing_target_value_raises_panel_validation_error() -> None:
    frame = raw_frame()
    frame["scored"] = pd.array([True, False, None, True, True], dtype="boolean")
    with pytest.raises(PanelValidationError) as info:
        build(frame, target="scored")
    assert info.value.column == "scored"
    assert 12 in info.value.rows


def test_boolean_target_column_sets_mask() -> None:
    frame = raw_frame()
    frame["scored"] = [True, False, False, True, True]  # labels 10..14
    panel = build(frame, target="scored")
    # sorted order: labels 13, 11, 12, 14, 10
    assert panel.target_mask.tolist() == [True, False, False, True, True]
    assert panel.n_targets == 3
    assert "scored" not in panel.data.columns
    assert "is_target" not in panel.data.columns


@pytest.mark.parametrize("reserved", ["person_id", "year", "occ", "weight", "is_target"])
def test_reserved_covariate_name_raises(reserved: str) -> None:
    frame = raw_frame()
    frame[reserved] = 1
    with pytest.raises(PanelValidationError, match="reserved") as info:
        build(frame, covariates=["race", reserved])
    assert info.value.column == reserved
    assert f"'{reserved}'" in str(info.value)


def test_covariate_listed_twice_raises() -> None:
    with pytest.raises(PanelValidationError, match="listed twice"):
        build(covariates=["race", "race"])


# ---------------------------------------------------------------------- views


def test_targets_by_hand(panel: CareerPanel) -> None:
    targets = panel.targets()
    assert list(targets.columns) == ["person_id", "year", "occ", "position", "prev_occ", "gap", "is_first"]
    assert targets.index.tolist() == [0, 1, 2, 3, 4]
    assert targets["person_id"].tolist() == [3, 3, 7, 7, 7]
    assert targets["year"].tolist() == [1980, 1981, 1980, 1981, 1984]
    assert targets["occ"].astype(str).tolist() == ["c", "a", "a", "unemployed", "b"]
    assert targets["position"].tolist() == [0, 1, 0, 1, 2]
    prev = targets["prev_occ"]
    assert isinstance(prev.dtype, pd.CategoricalDtype)
    assert list(prev.cat.categories) == list(panel.states)
    assert prev.isna().tolist() == [True, False, True, False, False]
    assert prev.astype(object).tolist()[1:2] + prev.astype(object).tolist()[3:] == ["c", "a", "unemployed"]
    np.testing.assert_array_equal(targets["gap"].to_numpy(), [np.nan, 1.0, np.nan, 1.0, 3.0])
    assert targets["is_first"].tolist() == [True, False, True, False, False]


def test_targets_only_returns_target_rows() -> None:
    frame = raw_frame()
    frame["scored"] = [True, False, False, True, True]
    targets = build(frame, target="scored").targets()
    assert targets.index.tolist() == [0, 3, 4]
    assert targets["prev_occ"].astype(object).tolist()[1:] == ["a", "unemployed"]
    np.testing.assert_array_equal(targets["gap"].to_numpy(), [np.nan, 1.0, 3.0])


def test_lagged_states_by_hand(panel: CareerPanel) -> None:
    # state index: c=2, a=0 | a=0, unemployed=3, b=1
    np.testing.assert_array_equal(panel.lagged_states(1), [-1, 2, -1, 0, 3])
    np.testing.assert_array_equal(panel.lagged_states(2), [-1, -1, -1, -1, 0])
    np.testing.assert_array_equal(panel.lagged_states(5), [-1] * 5)
    assert panel.lagged_states(1).dtype == np.int32


def test_lagged_states_default_is_one(panel: CareerPanel) -> None:
    np.testing.assert_array_equal(panel.lagged_states(), panel.lagged_states(1))


@pytest.mark.parametrize("lag", [0, -1])
def test_lagged_states_rejects_non_positive_lag(panel: CareerPanel, lag: int) -> None:
    with pytest.raises(ValueError, match="lag must be >= 1"):
        panel.lagged_states(lag)


def test_sequences_by_hand(panel: CareerPanel) -> None:
    seq = panel.sequences()
    np.testing.assert_array_equal(seq.person_ids, [3, 7])
    np.testing.assert_array_equal(seq.offsets, [0, 2, 5])
    np.testing.assert_array_equal(seq.lengths, [2, 3])
    np.testing.assert_array_equal(seq.states, [2, 0, 0, 3, 1])
    np.testing.assert_array_equal(seq.years, [1980, 1981, 1980, 1981, 1984])
    np.testing.assert_array_equal(seq.target, [True] * 5)
    assert len(seq) == 2
    np.testing.assert_array_equal(seq[0], [2, 0])
    np.testing.assert_array_equal(seq[1], [0, 3, 1])
    assert seq.states.dtype == np.int32


# ---------------------------------------------------------------------- split_persons


def test_split_persons_is_deterministic() -> None:
    panel = many_persons_panel()
    first = panel.split_persons((0.7, 0.1, 0.2), rng=5)
    second = panel.split_persons((0.7, 0.1, 0.2), rng=5)
    assert [person_set(p) for p in first] == [person_set(p) for p in second]


def test_split_persons_depends_on_seed() -> None:
    panel = many_persons_panel()
    a = panel.split_persons((0.5, 0.5), rng=0)
    b = panel.split_persons((0.5, 0.5), rng=1)
    assert person_set(a[0]) != person_set(b[0])


def test_split_persons_parts_are_disjoint_and_cover_everyone() -> None:
    panel = many_persons_panel()
    parts = panel.split_persons((0.7, 0.1, 0.2), rng=3)
    sets = [person_set(p) for p in parts]
    assert sets[0].isdisjoint(sets[1])
    assert sets[0].isdisjoint(sets[2])
    assert sets[1].isdisjoint(sets[2])
    assert set().union(*sets) == person_set(panel)
    assert sum(len(p) for p in parts) == len(panel)


@pytest.mark.parametrize(
    ("fractions", "expected"),
    [((0.7, 0.1, 0.2), [16, 2, 5]), ((0.5, 0.5), [12, 11]), ((0.25, 0.25, 0.25, 0.25), [6, 6, 6, 5])],
)
def test_split_persons_sizes_follow_rounding_rule(fractions: tuple[float, ...], expected: list[int]) -> None:
    panel = many_persons_panel(23)
    parts = panel.split_persons(fractions, rng=0)
    sizes = [p.n_persons for p in parts]
    n = panel.n_persons
    rule = [round(f * n) for f in fractions[:-1]]
    assert sizes == [*rule, n - sum(rule)]
    assert sizes == expected


def test_split_persons_matches_documented_permutation() -> None:
    panel = many_persons_panel(23)
    fractions = (0.7, 0.1, 0.2)
    parts = panel.split_persons(fractions, rng=42)
    perm = np.random.default_rng(42).permutation(np.sort(panel.persons))
    assert person_set(parts[0]) == set(perm[:16].tolist())
    assert person_set(parts[1]) == set(perm[16:18].tolist())
    assert person_set(parts[2]) == set(perm[18:].tolist())


def test_split_persons_accepts_a_generator() -> None:
    panel = many_persons_panel()
    parts = panel.split_persons((0.5, 0.5), rng=np.random.default_rng(7))
    perm = np.random.default_rng(7).permutation(np.sort(panel.persons))
    assert person_set(parts[0]) == set(perm[:12].tolist())


def test_split_persons_keeps_whole_persons_and_attributes() -> None:
    panel = split_panel()
    parts = panel.split_persons((0.5, 0.5), rng=0)
    for part in parts:
        assert part.scheme == panel.scheme
        assert part.covariates == panel.covariates
        assert part.name == "splits"
        expected = panel.data[panel.data["person_id"].isin(part.persons)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.data, expected)


@pytest.mark.parametrize(
    "fractions",
    [(0.5, 0.6), (1.0,), (0.0, 1.0), (0.5, -0.2, 0.7), (0.3, 0.3), ((0.5, 0.5), (0.5, 0.5))],
)
def test_split_persons_rejects_invalid_fractions(fractions) -> None:
    with pytest.raises(ValueError, match="fractions"):
        many_persons_panel().split_persons(fractions)


# ---------------------------------------------------------------------- split_at_year


def test_split_at_year_history() -> None:
    history, _ = split_panel().split_at_year(1981)
    data = history.data
    assert (data["year"] <= 1981).all()
    assert list(zip(data["person_id"], data["year"], strict=True)) == [
        (1, 1980),
        (1, 1981),
        (2, 1979),
        (2, 1980),
        (4, 1981),
    ]
    assert history.target_mask.all()


def test_split_at_year_future_holds_all_rows_of_later_persons() -> None:
    panel = split_panel()
    _, future = panel.split_at_year(1981)
    assert future.persons.tolist() == [1, 3, 4]  # person 2 is seen only up to the origin
    full = panel.data
    expected = full[full["person_id"].isin([1, 3, 4])].reset_index(drop=True)
    pd.testing.assert_frame_equal(future.data, expected)


def test_split_at_year_future_targets_are_rows_after_the_origin() -> None:
    _, future = split_panel().split_at_year(1981)
    assert future.target_mask.tolist() == [False, False, True, True, True, False, True]
    targets = future.targets()
    assert (targets["year"] > 1981).all()
    assert list(zip(targets["person_id"], targets["year"], strict=True)) == [
        (1, 1983),
        (3, 1982),
        (3, 1984),
        (4, 1982),
    ]
    # context rows feed the history columns of the first target
    assert targets["prev_occ"].astype(object).tolist()[0] == "20"
    assert targets["position"].tolist() == [2, 0, 1, 1]
    np.testing.assert_array_equal(targets["gap"].to_numpy(), [2.0, np.nan, 2.0, 1.0])


def test_split_at_year_keeps_scheme_and_metadata() -> None:
    panel = split_panel()
    history, future = panel.split_at_year(1981)
    for part in (history, future):
        assert part.scheme == panel.scheme
        assert part.name == panel.name
        assert part.metadata == panel.metadata
        assert part.covariates == panel.covariates
        assert part.static_covariates == panel.static_covariates
        assert part.has_weight


def test_split_at_year_after_last_year_gives_empty_future() -> None:
    history, future = split_panel().split_at_year(1990)
    assert len(history) == 9
    assert len(future) == 0
    assert future.n_persons == 0


# ---------------------------------------------------------------------- parquet I/O


def assert_same_panel(a: CareerPanel, b: CareerPanel) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.data.dtypes.to_dict() == b.data.dtypes.to_dict()
    np.testing.assert_array_equal(a.target_mask, b.target_mask)
    assert a.scheme == b.scheme
    assert a.covariates == b.covariates
    assert a.static_covariates == b.static_covariates
    assert a.has_weight == b.has_weight
    assert a.name == b.name
    assert a.metadata == b.metadata


def test_parquet_round_trip_keeps_everything(tmp_path: Path) -> None:
    panel = split_panel()
    path = panel.to_parquet(tmp_path / "panel.parquet")
    assert path == tmp_path / "panel.parquet"
    again = CareerPanel.read_parquet(path)
    assert_same_panel(again, panel)
    data = again.data
    assert data["year"].dtype == np.int16
    assert data["person_id"].dtype == np.int64
    assert list(data["occ"].cat.categories) == ["10", "20", "30", "40", "unemployed"]
    assert list(data["race"].cat.categories) == ["b", "w"]
    assert data["edu"].cat.ordered
    assert list(data["edu"].cat.categories) == ["hs", "col"]
    assert data["edu"].isna().sum() == 1
    assert data["weight"].dtype == np.float64
    assert again.scheme.titles == {"10": "Ten"}
    assert again.scheme.group_of("30", "major") == "B"
    assert again.metadata["lineage"] == {"rows_read": 9, "dropped": {}}


def test_parquet_round_trip_keeps_target_mask(tmp_path: Path) -> None:
    _, future = split_panel().split_at_year(1981)
    path = future.to_parquet(tmp_path / "future.parquet")
    assert "is_target" in pq.read_schema(path).names
    again = CareerPanel.read_parquet(path)
    assert again.target_mask.tolist() == [False, False, True, True, True, False, True]
    assert_same_panel(again, future)
    pd.testing.assert_frame_equal(again.targets(), future.targets())


def test_parquet_without_context_rows_has_no_target_column(tmp_path: Path) -> None:
    path = split_panel().to_parquet(tmp_path / "p.parquet")
    assert "is_target" not in pq.read_schema(path).names


def test_parquet_round_trip_of_inferred_scheme_and_string_keys(tmp_path: Path) -> None:
    frame = raw_frame()
    frame["pid"] = frame["pid"].map({3: "p3", 7: "p7"})
    panel = build(frame, covariates=["race", "edu", "age"], weight="w")
    again = CareerPanel.read_parquet(panel.to_parquet(tmp_path / "p.parquet"))
    assert_same_panel(again, panel)
    assert again.name is None


def test_parquet_stores_laborseq_metadata(tmp_path: Path) -> None:
    path = split_panel().to_parquet(tmp_path / "p.parquet")
    meta = json.loads(pq.read_schema(path).metadata[b"laborseq"])
    assert meta["format_version"] == 1
    assert meta["scheme"] == scheme4().to_dict()
    assert meta["covariates"] == ["race", "edu"]
    assert meta["static"] == ["race"]
    assert meta["weight"] is True
    assert meta["name"] == "splits"


def test_to_parquet_leaves_no_temporary_file(tmp_path: Path) -> None:
    panel = split_panel()
    panel.to_parquet(tmp_path / "p.parquet")
    panel.to_parquet(tmp_path / "p.parquet")  # overwrite in place
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["p.parquet"]
    assert not [n for n in names if n.endswith(".tmp")]


def test_to_parquet_creates_parent_directories(tmp_path: Path) -> None:
    path = split_panel().to_parquet(tmp_path / "a" / "b" / "p.parquet")
    assert path.is_file()


def test_failed_write_keeps_old_file_and_removes_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.parquet"
    split_panel().to_parquet(path)
    before = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        build().to_parquet(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.parquet"]


def test_read_plain_parquet_with_column_kwargs(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    raw_frame().to_parquet(path)
    panel = CareerPanel.read_parquet(path, person="pid", year="yr", occ="job", covariates=["race"], weight="w")
    assert panel.name == "plain"
    assert panel.n_persons == 2
    assert len(panel) == 5
    assert panel.states == ("a", "b", "c", "unemployed")
    assert panel.data["year"].tolist() == [1980, 1981, 1980, 1981, 1984]
    assert panel.covariates == ("race",)
    assert panel.weights.tolist() == [2.0, 2.0, 1.5, 1.5, 1.5]


def test_read_plain_parquet_with_explicit_name_and_scheme(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    raw_frame().to_parquet(path)
    scheme = OccupationScheme(name="s", codes=("c", "b", "a"), status_tokens=("unemployed",))
    panel = CareerPanel.read_parquet(path, person="pid", year="yr", occ="job", scheme=scheme, name="given")
    assert panel.name == "given"
    assert panel.scheme == scheme


def test_read_plain_parquet_without_kwargs_fails_on_columns(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    raw_frame().to_parquet(path)
    with pytest.raises(PanelValidationError, match="not found") as info:
        CareerPanel.read_parquet(path)
    assert info.value.column == "person_id"


def test_read_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CareerPanel.read_parquet(tmp_path / "nope.parquet")


def test_read_newer_format_raises(tmp_path: Path) -> None:
    path = split_panel().to_parquet(tmp_path / "p.parquet")
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    info = json.loads(meta[b"laborseq"])
    info["format_version"] = 99
    meta[b"laborseq"] = json.dumps(info).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(ValueError, match="newer laborseq"):
        CareerPanel.read_parquet(path)


def test_read_invalid_panel_file_names_the_path(tmp_path: Path) -> None:
    path = split_panel().to_parquet(tmp_path / "p.parquet")
    table = pq.read_table(path)
    years = table.column("year").to_pylist()
    years[1] = years[0]  # duplicate person-year for person 1
    table = table.set_column(table.schema.get_field_index("year"), "year", pa.array(years, pa.int16()))
    pq.write_table(table, path)
    with pytest.raises(PanelValidationError, match="duplicate person-year") as info:
        CareerPanel.read_parquet(path)
    assert str(path) in str(info.value)
    assert info.value.rows == [0, 1]


# ---------------------------------------------------------------------- describe


def test_describe_values(panel: CareerPanel) -> None:
    desc = panel.describe()
    assert desc.name == "toy"
    assert desc.scheme == "toy"
    assert desc.n_persons == 2
    assert desc.n_person_years == 5
    assert desc.n_targets == 5
    assert desc.years == [1980, 1981, 1984]
    assert desc.gap_counts == {1: 2, 3: 1}
    assert desc.persons_with_gaps == 1
    assert desc.rows_per_person == {"min": 2.0, "median": 2.5, "mean": 2.5, "max": 3.0}
    assert desc.covariates == {"race": "static", "edu": "time-varying", "age": "time-varying"}
    assert desc.weight == "weight"
    shares = desc.state_shares
    assert shares.sum() == pytest.approx(1.0)
    assert shares.to_dict() == pytest.approx({"a": 0.4, "b": 0.2, "c": 0.2, "unemployed": 0.2})
    assert shares.index[0] == "a"  # largest share first


def test_describe_leaves_out_unused_states() -> None:
    desc = split_panel().describe()
    assert set(desc.state_shares.index) == {"10", "20", "30", "40", "unemployed"}
    scheme = OccupationScheme(name="big", codes=("a", "b", "c", "d"), status_tokens=("unemployed",))
    shares = build(scheme=scheme).describe().state_shares
    assert "d" not in shares.index
    assert shares.sum() == pytest.approx(1.0)


def test_describe_counts_targets_of_future_panel() -> None:
    _, future = split_panel().split_at_year(1981)
    desc = future.describe()
    assert desc.n_targets == 4
    assert desc.n_person_years == 7
    assert desc.gap_counts == {1: 2, 2: 2}
    assert desc.persons_with_gaps == 2


def test_describe_to_dict_is_json_serializable(panel: CareerPanel) -> None:
    data = panel.describe().to_dict()
    again = json.loads(json.dumps(data))
    assert again["n_persons"] == 2
    assert again["n_person_years"] == 5
    assert again["gap_counts"] == {"1": 2, "3": 1}
    assert again["state_shares"] == pytest.approx({"a": 0.4, "b": 0.2, "c": 0.2, "unemployed": 0.2})
    assert again["years"] == [1980, 1981, 1984]


def test_describe_str_mentions_counts(panel: CareerPanel) -> None:
    text = str(panel.describe())
    assert "CareerPanel toy" in text
    assert "persons           2" in text
    assert "person-years      5 (5 targets)" in text
    assert "1980-1984 (3 distinct years)" in text
    assert "1 yr: 2, 3 yr: 1" in text


def test_repr_mentions_counts(panel: CareerPanel) -> None:
    text = repr(panel)
    assert "persons=2" in text
    assert "person_years=5" in text


# ---------------------------------------------------------------------- property test

CODES = ("1", "2", "3", "4")


@st.composite
def raw_panels(draw: st.DrawFn) -> pd.DataFrame:
    persons = draw(st.lists(st.integers(1, 5), min_size=1, max_size=5, unique=True))
    rows = []
    for person in persons:
        years = draw(st.sets(st.integers(1990, 2005), min_size=1, max_size=6))
        for year in years:
            rows.append({"pid": person, "yr": year, "job": draw(st.sampled_from(CODES))})
    order = draw(st.permutations(range(len(rows))))
    return pd.DataFrame([rows[i] for i in order])


@settings(max_examples=50, deadline=None)
@given(frame=raw_panels())
def test_random_panels_keep_rows_states_and_survive_parquet(frame: pd.DataFrame) -> None:
    scheme = OccupationScheme(name="four", codes=CODES)
    panel = CareerPanel(frame, person="pid", year="yr", occ="job", scheme=scheme)
    assert len(panel) == len(frame)
    assert len(panel.targets()) == len(frame)
    assert panel.n_persons == frame["pid"].nunique()
    assert Counter(panel.data["occ"].astype(str)) == Counter(frame["job"])
    data = panel.data
    assert data.sort_values(["person_id", "year"]).index.tolist() == list(range(len(frame)))
    with tempfile.TemporaryDirectory() as tmp:
        again = CareerPanel.read_parquet(panel.to_parquet(Path(tmp) / "p.parquet"))
    pd.testing.assert_frame_equal(again.data, panel.data)
    assert again.scheme == scheme

"""Tests for laborseq.sources.harmonize: candidate tables -> a harmonised panel, every row counted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laborseq.occupations.crosswalk import UnmappedCodeError, crosswalk
from laborseq.occupations.occ1990dd import occ1990dd
from laborseq.panel.lineage import Lineage
from laborseq.sources.harmonize import CANDIDATE_COLUMNS, SpecialCode, harmonize


def candidates(rows: list[tuple]) -> pd.DataFrame:
    """A candidate table from (person_id, year, variable, frame, code, priority) tuples."""
    return pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))


def states(panel) -> dict[tuple, str]:
    data = panel.data
    return {(p, int(y)): str(s) for p, y, s in zip(data["person_id"], data["year"], data["occ"], strict=True)}


def assert_identity(panel) -> None:
    lineage = panel.lineage
    assert lineage.rows_read == len(panel) + lineage.rows_dropped
    assert not panel.data.duplicated(["person_id", "year"]).any()


# ---------------------------------------------------------------------- missing and special codes


def test_blank_and_survey_missing_codes_are_dropped_with_their_labels() -> None:
    table = candidates(
        [
            (1, 2000, "occ", "occ2010", 10, 0),
            (1, 2001, "occ", "occ2010", np.nan, 0),
            (1, 2002, "occ", "occ2010", -4, 0),
            (1, 2003, "occ", "occ2010", -4, 0),
            (1, 2004, "occ", "occ2010", -1, 0),
            (1, 2005, "occ", "occ2010", -3, 0),  # not a listed missing code: unmapped
        ]
    )
    panel = harmonize(table, source="t", missing_codes={-4: "valid skip", -1: "refused"})
    assert states(panel) == {(1, 2000): "4"}
    assert panel.lineage.dropped_by_reason() == {
        "missing value (blank)": 1,
        "-4 valid skip": 2,
        "-1 refused": 1,
        "not an occ2010 code": 1,
    }
    assert [s.stage for s in panel.lineage.steps] == ["missing code", "missing code", "missing code", "crosswalk"]
    assert_identity(panel)


def test_text_blanks_and_none_are_missing_values() -> None:
    table = candidates([(1, 2000, "occ", "occ2010", "", 0), (1, 2001, "occ", "occ2010", None, 0)])
    table["code"] = table["code"].astype(object)
    panel = harmonize(table, source="t")
    assert len(panel) == 0
    assert panel.lineage.dropped_by_reason() == {"missing value (blank)": 2}


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "float64", "object"])
def test_code_column_dtypes(dtype: str) -> None:
    table = candidates([(1, 2000, "occ", "occ2010", 10, 0), (1, 2001, "occ", "occ2010", None, 0)])
    table["code"] = pd.Series([10, None], dtype=dtype)
    panel = harmonize(table, source="t")
    assert states(panel) == {(1, 2000): "4"}
    assert panel.lineage.dropped_by_reason() == {"missing value (blank)": 1}


def test_special_codes_recode_to_a_token_or_drop() -> None:
    table = candidates(
        [
            (1, 1970, "occ70", "occ1970", 995, 0),
            (1, 1971, "occ70", "occ1970", 995, 0),
            (1, 1972, "occ70", "occ1970", 997, 0),
            (1, 1973, "occ70", "occ1970", 1, 0),
            (2, 1970, "occ10", "occ2010", 995, 0),  # same code in another frame: not special
        ]
    )
    special = {
        ("occ1970", 995): SpecialCode("995 did not work", "unemployed"),
        ("occ1970", 997): SpecialCode("997 unknown"),
    }
    panel = harmonize(table, source="t", special_codes=special)
    assert states(panel) == {(1, 1970): "unemployed", (1, 1971): "unemployed", (1, 1973): "23"}
    lineage = panel.lineage
    recode = next(s for s in lineage.steps if s.action == "recoded")
    assert (recode.stage, recode.reason, recode.count) == ("special code", "995 did not work -> unemployed", 2)
    assert recode.detail == {"frame": "occ1970", "code": 995}
    assert lineage.rows_recoded == 2
    assert lineage.dropped_by_reason() == {"997 unknown": 1, "not an occ2010 code": 1}
    assert_identity(panel)


def test_special_code_may_recode_to_an_occupation() -> None:
    table = candidates([(1, 2000, "occ", "occ1990dd", 874, 0)])
    panel = harmonize(table, source="t", special_codes={("occ1990dd", 874): SpecialCode("alias", "873")})
    assert states(panel) == {(1, 2000): "873"}


# ---------------------------------------------------------------------- crosswalk outcomes


def test_crosswalk_outcomes_are_counted_per_frame() -> None:
    table = candidates(
        [
            (1, 2000, "occ10", "occ2010", 10, 0),  # mapped
            (1, 2001, "occ10", "occ2010", 0, 0),  # no occupation
            (1, 2002, "occ10", "occ2010", 12345, 0),  # unmapped
            (1, 2003, "occ10", "occ2010", 12345, 0),
            (1, 2004, "occ10", "occ2010", 9920, 0),  # unemployed
            (2, 1990, "occ90", "occ1990", 3, 0),  # mapped
            (2, 1991, "occ90", "occ1990", 905, 0),  # not in the 1990 file; Armed Forces in the official list
            (2, 1993, "occ90", "occ1990", 1, 0),  # not a 1990 Census code
            (2, 1992, "occ70", "occ1970", 580, 0),  # military
        ]
    )
    panel = harmonize(table, source="t")
    assert states(panel) == {
        (1, 2000): "4",
        (1, 2004): "unemployed",
        (2, 1990): "4",
        (2, 1991): "military",
        (2, 1992): "military",
    }
    lineage = panel.lineage
    assert lineage.dropped_by_reason() == {
        "no occupation (occ2010 code meaning none)": 1,
        "not an occ2010 code": 2,
        "not an occ1990 code": 1,
    }
    unmapped = next(s for s in lineage.steps if s.reason == "not an occ2010 code")
    assert unmapped.detail == {"codes": {"12345": 2}}
    assert_identity(panel)


def test_on_unmapped_raise_names_person_year_and_variable() -> None:
    table = candidates([(1, 2000, "occ10", "occ2010", 10, 0), (7, 2003, "occ10", "occ2010", 12345, 0)])
    match = r"t: 1 code\(s\) that are not codes of the occ2010 frame.*12345 \(1x\).*\['7:2003:occ10'\]"
    with pytest.raises(UnmappedCodeError, match=match) as info:
        harmonize(table, source="t", on_unmapped="raise")
    assert info.value.unmapped["rows"].iloc[0] == ["7:2003:occ10"]


def test_already_harmonised_codes() -> None:
    table = candidates([(1, 2000, "dd", "occ1990dd", 4, 0), (1, 2001, "dd", "occ1990dd", 12345, 0)])
    panel = harmonize(table, source="t")
    assert states(panel) == {(1, 2000): "4"}
    assert panel.lineage.dropped_by_reason() == {"unmapped occ1990dd code": 1}


def test_unknown_frame_raises() -> None:
    with pytest.raises(ValueError, match="unknown occupation frame 'occ1850'"):
        harmonize(candidates([(1, 2000, "v", "occ1850", 4, 0)]), source="t")


def test_variant_deming2017() -> None:
    table = candidates([(1, 1990, "v", "occ1990", 3, 0), (1, 1991, "v", "occ1990dd", 9, 0)])
    panel = harmonize(table, source="t", variant="deming2017")
    assert panel.scheme == occ1990dd("deming2017")
    assert states(panel) == {(1, 1990): "4", (1, 1991): "9"}
    assert panel.metadata["occ1990dd_variant"] == "deming2017"
    dorn = harmonize(table, source="t")
    assert states(dorn) == {(1, 1990): "4"}  # 9 is a Deming-only code


# ---------------------------------------------------------------------- one state per person-year


def test_lowest_priority_survivor_wins_and_the_rest_are_superseded() -> None:
    table = candidates(
        [
            (1, 2000, "a", "occ2010", 12345, 0),  # best priority but unmapped: falls back
            (1, 2000, "b", "occ2010", 20, 2),
            (1, 2000, "c", "occ2010", 10, 1),
            (1, 2001, "a", "occ2010", 20, 1),
            (1, 2001, "b", "occ2010", 10, 0),
            (2, 2001, "a", "occ2010", np.nan, 0),
            (2, 2001, "b", "occ2010", 10, 5),
        ]
    )
    panel = harmonize(table, source="t")
    assert states(panel) == {(1, 2000): "4", (1, 2001): "4", (2, 2001): "4"}
    assert panel.lineage.dropped_by_reason() == {
        "missing value (blank)": 1,
        "not an occ2010 code": 1,
        "superseded by a higher-priority occupation variable": 2,
    }
    assert_identity(panel)


def test_equal_priorities_keep_the_first_row() -> None:
    table = candidates([(1, 2000, "a", "occ2010", 20, 0), (1, 2000, "b", "occ2010", 10, 0)])
    assert states(harmonize(table, source="t")) == {(1, 2000): "22"}
    assert states(harmonize(table.iloc[::-1], source="t")) == {(1, 2000): "4"}


def test_panel_is_sorted_and_string_person_keys_work() -> None:
    table = candidates([("b", 2001, "v", "occ2010", 10, 0), ("a", 2003, "v", "occ2010", 20, 0)])
    table = pd.concat([table, candidates([("a", 2000, "v", "occ2010", 10, 0)])], ignore_index=True)
    panel = harmonize(table, source="t")
    assert panel.data["person_id"].tolist() == ["a", "a", "b"]
    assert panel.data["year"].tolist() == [2000, 2003, 2001]


def test_empty_candidate_table_gives_an_empty_panel() -> None:
    panel = harmonize(candidates([]), source="t")
    assert len(panel) == 0 and panel.lineage.rows_read == 0


def test_everything_dropped_gives_an_empty_panel() -> None:
    panel = harmonize(candidates([(1, 2000, "v", "occ2010", 12345, 0)]), source="t")
    assert len(panel) == 0
    assert panel.lineage.rows_dropped == 1


# ---------------------------------------------------------------------- covariates, weights, metadata


def test_covariates_and_person_covariates_are_joined() -> None:
    table = candidates(
        [
            (1, 2000, "v", "occ2010", 10, 0),
            (1, 2001, "v", "occ2010", 20, 0),
            (2, 2000, "v", "occ2010", 10, 0),
        ]
    )
    covariates = pd.DataFrame(
        {"education": ["HS", "BA"], "wt": [1.5, 2.5]},
        index=pd.MultiIndex.from_tuples([(1, 2000), (1, 2001)], names=["person_id", "year"]),
    )
    person_covariates = pd.DataFrame({"race": ["x", "y"], "pw": [3.0, 4.0]}, index=pd.Index([1, 2], name="person_id"))
    panel = harmonize(table, source="t", covariates=covariates, person_covariates=person_covariates)
    data = panel.data
    assert data["education"].tolist()[:2] == ["HS", "BA"] and pd.isna(data["education"].iloc[2])
    assert data["race"].tolist() == ["x", "x", "y"]
    assert panel.static_covariates == ("race", "pw")
    assert panel.time_varying_covariates == ("education", "wt")
    assert not panel.has_weight


def test_weight_from_covariates() -> None:
    table = candidates([(1, 2000, "v", "occ2010", 10, 0), (1, 2001, "v", "occ2010", 20, 0)])
    covariates = pd.DataFrame(
        {"education": ["HS", "BA"], "wt": [1.5, 2.5]},
        index=pd.MultiIndex.from_tuples([(1, 2000), (1, 2001)], names=["person_id", "year"]),
    )
    panel = harmonize(table, source="t", covariates=covariates, weight="wt")
    assert panel.has_weight
    assert panel.weights.tolist() == [1.5, 2.5]
    assert panel.covariates == ("education",)


def test_weight_from_person_covariates() -> None:
    table = candidates([(1, 2000, "v", "occ2010", 10, 0), (2, 2001, "v", "occ2010", 20, 0)])
    person_covariates = pd.DataFrame({"race": ["x", "y"], "pw": [3.0, 4.0]}, index=pd.Index([1, 2], name="person_id"))
    panel = harmonize(table, source="t", person_covariates=person_covariates, weight="pw")
    assert panel.weights.tolist() == [3.0, 4.0]
    assert panel.static_covariates == ("race",)


def test_name_metadata_and_lineage_are_recorded() -> None:
    table = candidates([(1, 2000, "v", "occ2010", 10, 0), (1, 2001, "v", "occ2010", 12345, 0)])
    panel = harmonize(table, source="file.csv", name="demo", metadata={"reader": "x"})
    assert panel.name == "demo"
    assert panel.metadata["reader"] == "x"
    assert panel.metadata["occ1990dd_variant"] == "dorn2013"
    assert panel.metadata["lineage"] == panel.lineage.to_dict()
    assert panel.lineage.source == "file.csv"
    assert panel.lineage.unit == "candidate occupation"
    assert panel.scheme == occ1990dd("dorn2013")


# ---------------------------------------------------------------------- the identity


def test_a_given_lineage_is_continued() -> None:
    table = candidates([(1, 2000, "v", "occ2010", 10, 0), (1, 2001, "v", "occ2010", 10, 0)])
    lineage = Lineage(source="spells.csv", rows_read=5, unit="spell-year")
    lineage.drop("read", "invalid date", 3)
    panel = harmonize(table, source="spells.csv", lineage=lineage)
    assert panel.lineage.rows_read == 5
    assert panel.lineage.unit == "spell-year"
    assert panel.lineage.dropped_by_reason() == {"invalid date": 3}
    assert_identity(panel)


def test_a_lineage_that_does_not_account_for_the_candidates_is_rejected() -> None:
    table = candidates([(1, 2000, "v", "occ2010", 10, 0)])
    with pytest.raises(ValueError, match="does not account for the candidate rows"):
        harmonize(table, source="t", lineage=Lineage(source="t", rows_read=2))


def test_missing_candidate_columns() -> None:
    table = candidates([(1, 2000, "v", "occ2010", 10, 0)]).drop(columns=["priority", "frame"])
    with pytest.raises(ValueError, match=r"lacks columns \['frame', 'priority'\]"):
        harmonize(table, source="t")


# ---------------------------------------------------------------------- the occ1990dd frame and bad codes


def test_fractional_occ1990dd_codes_raise() -> None:
    with pytest.raises(ValueError, match="must be integers"):
        harmonize(candidates([(1, 2000, "v", "occ1990dd", 4.5, 0)]), source="t")


def test_on_unmapped_raise_applies_to_the_occ1990dd_frame() -> None:
    with pytest.raises(UnmappedCodeError):
        harmonize(candidates([(1, 2000, "v", "occ1990dd", 12345, 0)]), source="t", on_unmapped="raise")


def test_occ1990dd_special_codes_in_the_occ1990dd_frame() -> None:
    table = candidates(
        [
            (1, 2000, "v", "occ1990dd", 905, 0),
            (1, 2001, "v", "occ1990dd", 991, 0),
            (1, 2002, "v", "occ1990dd", 999, 0),
            (1, 2003, "v", "occ1990dd", 874, 0),
        ]
    )
    panel = harmonize(table, source="t")
    assert states(panel) == {(1, 2000): "military", (1, 2001): "unemployed", (1, 2003): "873"}
    assert panel.lineage.dropped_by_reason() == {"no occupation (occ1990dd code meaning none)": 1}


def test_non_numeric_codes_raise() -> None:
    table = candidates([(1, 2000, "v", "occ2010", "nurse", 0), (1, 2001, "v", "occ2010", "10", 0)])
    with pytest.raises(ValueError, match="non-numeric"):
        harmonize(table, source="t")


# ---------------------------------------------------------------------- property: no row is lost silently

PROPERTY_FRAMES = ("occ1970", "occ1990", "occ2010", "occ2000_4digit", "occ1990dd")


def known_codes(frame: str) -> list[int]:
    cw = crosswalk(frame)
    return sorted([*cw.mapping, *cw.fills])


KNOWN = {frame: known_codes(frame) for frame in PROPERTY_FRAMES}


def code_strategy(frame: str) -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from(KNOWN[frame]),
        st.integers(0, 20_000),
        st.integers(-9, -1),
        st.just(math.nan),
    ).map(float)


row_strategy = st.sampled_from(PROPERTY_FRAMES).flatmap(
    lambda frame: st.tuples(
        st.integers(1, 5),
        st.integers(2000, 2004),
        st.sampled_from(["occ_a", "occ_b"]),
        st.just(frame),
        code_strategy(frame),
        st.integers(0, 3),
    )
)


def expected_states(table: pd.DataFrame, missing: dict[int, str]) -> dict[tuple, str]:
    """Reference: per person-year, the state of the lowest-priority candidate (first row on ties) that maps."""
    out: dict[tuple, tuple[int, int, str]] = {}
    for pos, (person, year, _, frame, code, priority) in enumerate(table.itertuples(index=False)):
        if math.isnan(code) or int(code) in missing:
            continue
        result = crosswalk(frame).apply([code])
        if not result.kept[0]:
            continue
        state = result.states[0]
        key = (person, year)
        if key not in out or (priority, pos) < out[key][:2]:
            out[key] = (priority, pos, state)
    return {k: v[2] for k, v in out.items()}


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(row_strategy, max_size=40),
    missing=st.sampled_from([{}, {-4: "valid skip"}, {-4: "valid skip", -1: "refused", -2: "don't know"}]),
)
def test_no_row_is_lost_without_a_counted_reason(rows: list[tuple], missing: dict[int, str]) -> None:
    table = candidates(rows)
    panel = harmonize(table, source="hypothesis", missing_codes=missing)
    lineage = panel.lineage
    assert lineage.rows_read == len(table)
    assert lineage.rows_read == len(panel) + lineage.rows_dropped
    lineage.check(len(panel))
    assert all(s.count > 0 for s in lineage.steps)
    assert not panel.data.duplicated(["person_id", "year"]).any()
    assert states(panel) == expected_states(table, missing)

"""Official Census code lists, the fills of the crosswalks' gaps, and what a reader does with each kind of code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laborseq.occupations.code_lists import CODE_LIST_FRAMES, acs_folds, census_codes, normalize_title
from laborseq.occupations.crosswalk import (
    FILLED,
    MAPPED,
    NOT_IN_FRAME,
    UnmappedCodeError,
    crosswalk,
    user_crosswalks,
)
from laborseq.occupations.crosswalk_files import file_mapping
from laborseq.occupations.occ1990dd import VARIANTS
from laborseq.sources.harmonize import harmonize

NLSY79_2016 = {7700: 40, 8300: 8, 4350: 7, 4550: 6, 4320: 2, 4340: 1}
"""Valid 4-digit codes Dorn's occ2000 file lacks, with the persons who had them in a real 2016 NLSY79 export."""
NOT_CODES_2016 = (5, 174)
"""Codes of that export that are not codes of the 4-digit frame (3-digit codes)."""


def candidates(codes, frame="occ2000_4digit") -> pd.DataFrame:
    n = len(codes)
    return pd.DataFrame(
        {
            "person_id": np.arange(n),
            "year": np.full(n, 2016),
            "variable": "OCCALL-EMP.01_2016",
            "frame": frame,
            "code": np.asarray(codes, dtype=float),
            "priority": 0,
        }
    )


@pytest.mark.parametrize("frame", CODE_LIST_FRAMES)
def test_the_lists_are_well_formed(frame):
    table = census_codes(frame)
    assert list(table.columns) == ["code", "title", "kind"]
    assert table["code"].is_unique and (table["code"] >= 0).all()
    assert set(table["kind"]) <= {"occupation", "military", "non_occupation"}
    assert table["title"].notna().all()
    assert (table["kind"] == "occupation").sum() > 450


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("frame", CODE_LIST_FRAMES)
def test_every_valid_code_of_every_frame_maps(frame, variant):
    table = census_codes(frame)
    result = crosswalk(frame, variant).apply(table["code"])
    occupation = (table["kind"] == "occupation").to_numpy()
    assert result.kept[occupation].all(), table.loc[occupation & ~result.kept, "code"].tolist()
    # Armed Forces codes are military, the other non-occupation codes no occupation or unemployed
    military = (table["kind"] == "military").to_numpy()
    assert set(result.states[military]) <= {"military"}
    assert not result.unmapped.size


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_codes_a_real_nlsy79_export_lost_now_map(variant):
    result = crosswalk("occ2000_4digit", variant).apply(list(NLSY79_2016))
    assert result.kept.all()
    expected_outcome = FILLED if variant == "dorn2013" else MAPPED  # Deming's file has them; Dorn's lacks them
    assert (result.outcome == expected_outcome).all()
    deming = file_mapping("occ2000", "deming2017")
    # in both families, what Deming's file says (its targets are codes of both families here)
    assert [int(s) for s in result.states] == [deming[c // 10] for c in NLSY79_2016]
    assert str(result.states[0]) == "628"  # 7700 first-line supervisors of production workers: production supervisors


def test_codes_that_are_not_codes_of_the_frame_are_counted_apart():
    codes = [c for c, n in NLSY79_2016.items() for _ in range(n)] + list(NOT_CODES_2016) + [5]
    panel = harmonize(candidates(codes).assign(person_id=np.arange(len(codes))), source="export")
    dropped = panel.lineage.dropped_by_reason()
    assert dropped == {"not an occ2000_4digit code": 3}
    steps = {s.reason: s for s in panel.lineage.steps}
    assert steps["not an occ2000_4digit code"].detail["codes"] == {"5": 2, "174": 1}
    filled = steps["filled from the Deming (2017) occ2000 crosswalk (occ2000_4digit)"]
    assert filled.action == "recoded" and filled.count == sum(NLSY79_2016.values())
    assert filled.detail["codes"] == {str(c): n for c, n in NLSY79_2016.items()}
    assert len(panel) == sum(NLSY79_2016.values())
    panel.lineage.check(len(panel))


def test_the_unmapped_error_names_codes_rows_and_remedy():
    with pytest.raises(UnmappedCodeError) as info:
        harmonize(candidates([5, 174, 2200]), source="export.csv", on_unmapped="raise")
    message = str(info.value)
    assert message.startswith("export.csv: 2 code(s) that are not codes of the occ2000_4digit frame, in 2 row(s)")
    assert "5 (1x), 174 (1x)" in message and "3-digit codes in a 4-digit variable" in message
    assert "crosswalk=" in message and "['0:2016:OCCALL-EMP.01_2016']" in message
    # a valid code no crosswalk maps: the 1970 frame has no official list, so any unknown code counts as such
    with pytest.raises(UnmappedCodeError, match=r"1 occ1970 code\(s\) that the dorn2013 crosswalk does not map.*"):
        crosswalk("occ1970").apply([777], on_unmapped="raise")


def test_the_remedy_counts_what_the_other_family_maps():
    cw = crosswalk("occ1970", "deming2017")
    dorn_only = sorted(set(file_mapping("occ1970", "dorn2013")) - set(file_mapping("occ1970", "deming2017")))
    assert cw.maps(dorn_only) == len(dorn_only) - 1  # filled from Dorn's file; 0 means no occupation
    assert cw.fills[0][0] is None
    assert {cw.fills[c][1] for c in dorn_only} == {"filled from the Autor-Dorn (2013) occ1970 crosswalk"}


def test_acs_folds_and_recodes_fill_the_2000_gaps():
    assert acs_folds()[123] == (124, acs_folds()[121][1])  # statisticians and mathematicians: one ACS code
    cw = crosswalk("occ2000_4digit", "dorn2013")
    _, source, detail = cw.fills[1230]
    assert source == "filled through the ACS 2005-2009 list" and "124" in detail
    assert cw.to_frame().set_index("from_code").loc[1230, "state"] == crosswalk("occ2000").mapping[124]
    _, source, detail = cw.fills[3830]  # fish and game wardens: a published recode to 384
    assert source == "filled from a published recode" and "menakiser/major_choice_review" in detail
    assert cw.fills[3830][0] == cw.mapping[3840]


def test_2010_codes_fill_from_the_2000_code_of_the_same_title():
    cw = crosswalk("occ2010", "dorn2013")
    state, source, detail = cw.fills[5210]  # correspondence clerks, 5210 in both lists
    assert source == "filled as the occ2000_4digit code of the same title" and detail == "occ2000_4digit code 5210"
    assert state == crosswalk("occ2000_4digit", "dorn2013").fills[5210][0]


def test_titles_compare_across_spellings():
    assert normalize_title("Apparel and fabric pattern makers") == normalize_title("APPAREL AND FABRIC PATTERNMAKERS")
    assert normalize_title("Nurses") == normalize_title("nurse")


def test_a_users_table_overrides_and_is_counted(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("from_code,occ1990dd\n174,83\n5,22\n7700,out_of_labor_force\n")
    tables = user_crosswalks(path, "dorn2013", ["occ2000_4digit"])
    panel = harmonize(candidates([5, 174, 7700, 4720]), source="export", crosswalks=tables)
    assert sorted(panel.data["occ"].astype(str)) == ["22", "276", "83", "out_of_labor_force"]
    steps = {s.reason: s.count for s in panel.lineage.steps}
    assert steps[f"your crosswalk ({path}) (occ2000_4digit)"] == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("from_code,occ1990dd\n174,12345\n")
    with pytest.raises(ValueError, match=r"12345 is not an occ1990dd code of the dorn2013 family"):
        user_crosswalks(bad, "dorn2013", ["occ2000_4digit"])
    with pytest.raises(ValueError, match="needs columns from_code and occ1990dd"):
        user_crosswalks(pd.DataFrame({"code": [1]}), "dorn2013", ["occ2000"])
    with pytest.raises(ValueError, match=r"frame\(s\) \['occ1950'\] are not frames of this input"):
        user_crosswalks(
            pd.DataFrame({"frame": ["occ1950"], "from_code": [1], "occ1990dd": [4]}), "dorn2013", ["occ2000"]
        )


def test_every_fill_names_a_rule_and_a_state_of_the_scheme():
    for frame in (*CODE_LIST_FRAMES, "occ1970"):
        for variant in VARIANTS:
            cw = crosswalk(frame, variant)
            for state, source, detail in cw.fills.values():
                assert state is None or state in cw.scheme
                assert source.startswith("filled ") and detail
            assert NOT_IN_FRAME not in cw.apply(list(cw.fills)).outcome

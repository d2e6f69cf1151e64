"""Tests for laborseq.occupations.crosswalk and .occ1990dd: the shipped tables, their transformations and apply().

Expected values are computed here from the CSV files in ``laborseq/resources/taxonomy`` (read with the csv
module, not through the package) and from the facts in its PROVENANCE.md.
"""

from __future__ import annotations

import csv
import zlib
from collections import Counter
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from laborseq import STATUS_TOKENS, CareerPanel
from laborseq.occupations.crosswalk import (
    FRAMES,
    MAPPED,
    MISSING_CODE,
    NO_OCCUPATION,
    NOT_IN_FRAME,
    UNMAPPED,
    CrosswalkResult,
    UnmappedCodeError,
    crosswalk,
)
from laborseq.occupations.occ1990dd import VARIANTS, occ1990dd

TAXONOMY = resources.files("laborseq") / "resources" / "taxonomy"

FILES = {
    ("occ1970", "dorn2013"): "crosswalk_occ1970_occ1990dd.csv",
    ("occ1990", "dorn2013"): "crosswalk_occ1990_occ1990dd.csv",
    ("occ2000", "dorn2013"): "crosswalk_occ2000_occ1990dd.csv",
    ("occ2010", "dorn2013"): "crosswalk_occ2010_occ1990dd.csv",
    ("occ1970", "deming2017"): "crosswalk_occ1970_occ1990dd_deming2017.csv",
    ("occ1980", "deming2017"): "crosswalk_occ1980_occ1990dd_deming2017.csv",
    ("occ1990", "deming2017"): "crosswalk_occ1990_occ1990dd_deming2017.csv",
    ("occ2000", "deming2017"): "crosswalk_occ2000_occ1990dd_deming2017.csv",
    ("occ2005", "deming2017"): "crosswalk_occ2005_occ1990dd_deming2017.csv",
    ("occ2010", "deming2017"): "crosswalk_occ2010_occ1990dd_deming2017.csv",
}
"""Which file each (frame, variant) is built from; frames without a Dorn file use Deming's."""

ROWS = {
    "crosswalk_occ1970_occ1990dd.csv": 442,
    "crosswalk_occ1990_occ1990dd.csv": 502,
    "crosswalk_occ2000_occ1990dd.csv": 464,
    "crosswalk_occ2010_occ1990dd.csv": 489,
    "crosswalk_occ1970_occ1990dd_deming2017.csv": 428,
    "crosswalk_occ1980_occ1990dd_deming2017.csv": 504,
    "crosswalk_occ1990_occ1990dd_deming2017.csv": 501,
    "crosswalk_occ2000_occ1990dd_deming2017.csv": 471,
    "crosswalk_occ2005_occ1990dd_deming2017.csv": 471,
    "crosswalk_occ2010_occ1990dd_deming2017.csv": 495,
}
"""Row counts of the files as documented in PROVENANCE.md (table B.3)."""

LIST_SPECIALS = {
    "occ1990": {0: None, 905: "military"},
    "occ2000": {980: "military", 981: "military", 982: "military", 983: "military"},
    "occ2000_4digit": {
        **dict.fromkeys((9800, 9810, 9820, 9830, 9840), "military"),  # 980-983 times ten, and the CPS/NLS 9840
        9920: "unemployed",
        9950: "out_of_labor_force",
        9990: None,
    },
    "occ2005": {980: "military", 981: "military", 982: "military", 983: "military", 992: "unemployed"},
    "occ2010": {9800: "military", 9810: "military", 9820: "military", 9830: "military", 9920: "unemployed"},
}
"""Documented additions: the Armed Forces and non-occupation codes of each frame's official list (and the NLS
codes 9950, 9990 of the 4-digit frame) that a file lacks: military, unemployed ("no recent occupation", 991 in the
2005 and 2010 files) or no occupation."""

BACKMAP = {
    9: 33,
    58: 59,
    175: 176,
    197: 13,
    269: 275,
    270: 275,
    285: 274,
    413: 417,
    414: 418,
    494: 479,  # ambiguous (479 or 496): the smaller code wins the tie
    647: 535,
    814: 809,
    828: 829,
    849: 848,
    856: 804,
}
"""Deming-only occ1990dd codes -> Dorn codes (PROVENANCE.md B.3), used for dorn2013 on occ1980/occ2005."""

DEMING_ONLY = set(BACKMAP)
DORN_ONLY = {225, 346, 475, 679}

MAJOR_GROUP_RANGES = [
    (3, 37, "Managerial specialty"),
    (43, 235, "Professional specialty and technical support"),
    (243, 290, "Sales"),
    (303, 389, "Clerical, administrative support"),
    (403, 408, "Service: private household, cleaning and building"),
    (413, 427, "Service: protection"),
    (433, 444, "Service: food preparation"),
    (445, 447, "Health services"),
    (448, 472, "Personal services"),
    (473, 499, "Farming, forestry, fishing"),
    (503, 549, "Mechanics and repair"),
    (553, 617, "Construction trades and extractive"),
    (628, 699, "Precision production"),
    (703, 799, "Operators: machine"),
    (803, 859, "Operators: transport"),
    (863, 889, "Operators: handlers, helpers, laborers"),
]
"""The 16 range-based major groups of PROVENANCE.md B.3."""

MAJOR_GROUP_SIZES = {
    "Professional specialty and technical support": 89,
    "Clerical, administrative support": 41,
    "Operators: machine": 37,
    "Precision production": 26,
    "Managerial specialty": 22,
    "Construction trades and extractive": 22,
    "Mechanics and repair": 21,
    "Personal services": 18,
    "Operators: transport": 18,
    "Sales": 14,
    "Operators: handlers, helpers, laborers": 11,
    "Service: protection": 9,
    "Farming, forestry, fishing": 8,
    "Service: food preparation": 6,
    "Service: private household, cleaning and building": 2,
    "Health services": 2,
}
"""Group sizes over the 346 codes of both families (PROVENANCE.md B.3)."""

ALL_PAIRS = [(f, v) for f in FRAMES if f != "occ1990dd" for v in VARIANTS]
"""Frames with a crosswalk file (occ1990dd itself is the identity, tested separately)."""


def read_csv_rows(name: str) -> list[tuple[int, int]]:
    """(from_code, occ1990dd) rows of a crosswalk file, read with the csv module."""
    with (TAXONOMY / name).open("r", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["from_code", "occ1990dd"]
        return [(int(r["from_code"]), int(r["occ1990dd"])) for r in reader]


def source_file(frame: str, variant: str) -> str:
    base = "occ2000" if frame == "occ2000_4digit" else frame
    return FILES[(base, variant)] if (base, variant) in FILES else FILES[(base, "deming2017")]


def expected_state(target: int, variant: str, frame: str) -> str | None:
    """What a file's target becomes: the documented transformations, applied independently of the package."""
    if target == 999:
        return None
    if target == 991:
        return "unemployed"
    if target == 905:
        return "military"
    if variant == "dorn2013":
        if target == 874:
            return "873"
        if frame in ("occ1980", "occ2005"):  # Deming's file, back-mapped
            return str(BACKMAP.get(target, target))
    return str(target)


def expected_table(frame: str, variant: str) -> dict[int, str | None]:
    base = "occ2000" if frame == "occ2000_4digit" else frame
    scale = 10 if frame == "occ2000_4digit" else 1
    table = {c * scale: expected_state(t, variant, base) for c, t in read_csv_rows(source_file(frame, variant))}
    for code, state in LIST_SPECIALS.get(frame, {}).items():
        table.setdefault(code, state)
    return table


def states_of(result: CrosswalkResult) -> list[str | None]:
    return [None if pd.isna(s) else s for s in result.states]


# ---------------------------------------------------------------------- the shipped tables


@pytest.mark.parametrize(("frame", "variant"), ALL_PAIRS)
def test_row_count_is_the_file_plus_documented_additions(frame: str, variant: str) -> None:
    cw = crosswalk(frame, variant)
    name = source_file(frame, variant)
    rows = read_csv_rows(name)
    assert len(rows) == ROWS[name]
    assert len({c for c, _ in rows}) == len(rows)  # each source code once: many-to-one
    scale = 10 if frame == "occ2000_4digit" else 1
    added = [c for c in LIST_SPECIALS.get(frame, {}) if c not in {c * scale for c, _ in rows}]
    assert len(cw.mapping) == len(rows) + len(added)
    # the 4-digit frame takes 9800-9830 from the 3-digit list (times ten) and 9840, 9950, 9990 from the NLS codes
    listed = [9920] if frame == "occ2000_4digit" else added
    if listed:
        assert any(f"official list added: {sorted(listed)}" in note for note in cw.notes)
    assert len(cw) == len(cw.mapping) + len(cw.fills)
    assert cw.frame == frame
    assert cw.scheme == occ1990dd(variant)


def test_documented_additions_per_file() -> None:
    counts = {(f, v): len(crosswalk(f, v).mapping) - ROWS[source_file(f, v)] for f, v in ALL_PAIRS}
    assert counts[("occ2000", "dorn2013")] == 4
    assert counts[("occ2000", "deming2017")] == 4
    assert counts[("occ2010", "dorn2013")] == 4
    assert counts[("occ2010", "deming2017")] == 0  # Deming's 2010 file has 9800-9830 already
    assert counts[("occ2005", "deming2017")] == 0  # and the 2005 file 980-983
    assert counts[("occ2005", "dorn2013")] == 0
    assert counts[("occ1990", "dorn2013")] == counts[("occ1990", "deming2017")] == 2  # 0 and 905
    assert counts[("occ2000_4digit", "dorn2013")] == counts[("occ2000_4digit", "deming2017")] == 8
    for frame in ("occ1970", "occ1980"):
        for variant in VARIANTS:
            assert counts[(frame, variant)] == 0


@pytest.mark.parametrize(("frame", "variant"), ALL_PAIRS)
def test_random_sample_of_30_mappings_matches_the_csv(frame: str, variant: str) -> None:
    cw = crosswalk(frame, variant)
    rows = read_csv_rows(source_file(frame, variant))
    base = "occ2000" if frame == "occ2000_4digit" else frame
    rng = np.random.default_rng(zlib.crc32(f"{frame}/{variant}".encode()))  # same sample on every run
    picks = rng.choice(len(rows), size=min(30, len(rows)), replace=False)
    sample = [rows[i] for i in picks]
    scale = 10 if frame == "occ2000_4digit" else 1
    codes = [c * scale for c, _ in sample]
    result = cw.apply(codes)
    for (source, target), state, outcome in zip(sample, states_of(result), result.outcome, strict=True):
        expected = expected_state(target, variant, base)
        assert state == expected, (frame, variant, source, target)
        assert outcome == (NO_OCCUPATION if expected is None else MAPPED)


@pytest.mark.parametrize(("frame", "variant"), ALL_PAIRS)
def test_whole_table_matches_the_csv(frame: str, variant: str) -> None:
    assert crosswalk(frame, variant).mapping == expected_table(frame, variant)


@pytest.mark.parametrize(("frame", "variant"), ALL_PAIRS)
def test_every_target_is_a_state_of_the_scheme(frame: str, variant: str) -> None:
    cw = crosswalk(frame, variant)
    states = {s for s in [*cw.mapping.values(), *(f[0] for f in cw.fills.values())] if s is not None}
    assert states <= set(cw.scheme.states)
    if variant == "dorn2013":
        assert not {int(s) for s in states if s.isdigit()} & DEMING_ONLY
        assert "874" not in states
    else:
        assert not {int(s) for s in states if s.isdigit()} & DORN_ONLY


def test_special_targets() -> None:
    cw = crosswalk("occ1970", "dorn2013")
    assert cw.mapping[0] is None  # 999: no occupation
    assert cw.mapping[580] == "military"  # 905
    assert cw.mapping[991] == "unemployed"  # 991
    for variant in VARIANTS:
        assert crosswalk("occ2010", variant).mapping[9920] == "unemployed"
        assert crosswalk("occ2010", variant).mapping[0] is None
        assert crosswalk("occ2010", variant).mapping[9800] == "military"
        assert crosswalk("occ2005", variant).mapping[992] == "unemployed"
        assert crosswalk("occ2005", variant).mapping[981] == "military"
        assert crosswalk("occ2000", variant).mapping[983] == "military"
    result = cw.apply([0, 580, 991])
    assert states_of(result) == [None, "military", "unemployed"]
    assert result.outcome.tolist() == [NO_OCCUPATION, MAPPED, MAPPED]


def test_874_is_folded_into_873_in_dorn2013() -> None:
    rows = dict(read_csv_rows("crosswalk_occ1990_occ1990dd.csv"))
    assert rows[873] == 874 and rows[874] == 873  # the quirk in Dorn's file
    dorn = crosswalk("occ1990", "dorn2013")
    assert dorn.mapping[873] == "873" and dorn.mapping[874] == "873"
    assert "874" not in occ1990dd("dorn2013") and "873" in occ1990dd("dorn2013")
    deming = crosswalk("occ1990", "deming2017")
    assert "874" not in occ1990dd("deming2017")
    assert 873 not in deming.mapping and deming.mapping[874] == "873"  # Deming's file: 874 -> 873, no 873 row


@pytest.mark.parametrize("frame", ["occ1980", "occ2005"])
def test_deming_only_targets_are_back_mapped_in_dorn2013(frame: str) -> None:
    rows = read_csv_rows(FILES[(frame, "deming2017")])
    dorn = crosswalk(frame, "dorn2013")
    deming = crosswalk(frame, "deming2017")
    hits = [(c, t) for c, t in rows if t in DEMING_ONLY]
    assert hits, "the Deming file uses Deming-only codes"
    for code, target in hits:
        assert deming.mapping[code] == str(target)
        assert dorn.mapping[code] == str(BACKMAP[target])
    assert any("mapped back to Dorn codes" in note for note in dorn.notes)
    assert not any("mapped back" in note for note in deming.notes)


def test_back_map_is_the_documented_one() -> None:
    note = next(n for n in crosswalk("occ1980", "dorn2013").notes if "mapped back" in n)
    assert note.endswith(str(BACKMAP))


# ---------------------------------------------------------------------- the 4-digit frame


@pytest.mark.parametrize("variant", VARIANTS)
def test_four_digit_codes_are_the_three_digit_codes_times_ten(variant: str) -> None:
    four = crosswalk("occ2000_4digit", variant)
    three = crosswalk("occ2000", variant)
    sample = sorted(three.mapping)[::25]
    assert states_of(four.apply([c * 10 for c in sample])) == states_of(three.apply(sample))
    # a code between two multiples of ten is no code of the frame (it used to be read as its first three digits)
    result = four.apply([2200, 2205, 2209])
    assert states_of(result)[0] == states_of(three.apply([220]))[0]
    assert result.outcome.tolist()[1:] == [NOT_IN_FRAME, NOT_IN_FRAME]


def test_four_digit_special_codes() -> None:
    four = crosswalk("occ2000_4digit")
    result = four.apply([9840, 9950, 9990, 9830, 9920, 9800, 9841, 5, 174])
    assert (
        states_of(result) == ["military", "out_of_labor_force", None, "military", "unemployed", "military"] + [None] * 3
    )
    assert result.outcome.tolist() == [MAPPED, MAPPED, NO_OCCUPATION, MAPPED, MAPPED, MAPPED] + [NOT_IN_FRAME] * 3
    frame = four.to_frame()
    assert {9840, 9950, 9990, 2200} <= set(frame["from_code"])
    assert len(frame) == len(four)


# ---------------------------------------------------------------------- apply()


def test_unmapped_codes_are_listed_with_counts_and_row_labels() -> None:
    cw = crosswalk("occ2010")
    result = cw.apply([10, 12345, 12345, -1, 99999, 12345, 3257], rows=["a", "b", "c", "d", "e", "f", "g"])
    assert result.counts() == {
        "mapped": 1,
        "no_occupation": 0,
        "unmapped": 0,
        "missing_code": 0,
        "filled": 1,  # 3257 nurse midwives: a valid 2010 code Dorn's file lacks, filled from a published recode
        "not_in_frame": 5,
    }
    table = result.unmapped
    assert table["code"].tolist() == [12345, -1, 99999]  # by count, then code
    assert table["count"].tolist() == [3, 1, 1]
    assert table["rows"].tolist() == [["b", "c", "f"], ["d"], ["e"]]
    assert table["in_frame"].tolist() == [False, False, False]
    unknown = crosswalk("occ1970").apply([777, 777, 201])  # no official 1970 list: an unknown code is "unmapped"
    assert unknown.counts()["unmapped"] == 2 and unknown.unmapped["in_frame"].tolist() == [True]
    assert result.state_index.tolist()[1:6] == [-1] * 5


def test_unmapped_rows_default_to_positions_and_are_capped_at_20() -> None:
    result = crosswalk("occ2010").apply([12345] * 25 + [10])
    assert result.unmapped["count"].tolist() == [25]
    assert result.unmapped["rows"].iloc[0] == list(range(20))


def test_no_unmapped_gives_an_empty_table() -> None:
    result = crosswalk("occ1990").apply([3, 4, 889])
    assert result.unmapped.empty
    assert list(result.unmapped.columns) == ["code", "count", "rows", "in_frame"]


def test_on_unmapped_raise_raises_with_the_table() -> None:
    cw = crosswalk("occ1990", "deming2017")
    match = r"2 code\(s\) that are not codes of the occ1990 frame.*\b1\b \(2x\)"
    with pytest.raises(UnmappedCodeError, match=match) as info:
        cw.apply([3, 1, 1, 2], on_unmapped="raise")
    assert info.value.unmapped["code"].tolist() == [1, 2]
    assert info.value.unmapped["count"].tolist() == [2, 1]
    assert isinstance(info.value, ValueError)
    cw.apply([3, 4], on_unmapped="raise")  # nothing unmapped: no error


def test_bad_on_unmapped_value() -> None:
    with pytest.raises(ValueError, match="on_unmapped"):
        crosswalk("occ1990").apply([3], on_unmapped="ignore")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "codes",
    [
        [10.0, np.nan, 20.0],
        [10, None, 20],
        ["10", "", "20"],
        pd.Series([10, None, 20], dtype="Int64"),
        pd.Series([10.0, None, 20.0], dtype="Float64"),
    ],
    ids=["float-nan", "none", "text-blank", "Int64", "Float64"],
)
def test_missing_codes_are_counted_as_missing(codes: object) -> None:
    result = crosswalk("occ2010").apply(codes)  # type: ignore[arg-type]
    assert result.counts() == {
        "mapped": 2,
        "no_occupation": 0,
        "unmapped": 0,
        "missing_code": 1,
        "filled": 0,
        "not_in_frame": 0,
    }
    assert result.outcome.tolist() == [MAPPED, MISSING_CODE, MAPPED]
    assert states_of(result) == ["4", None, "22"]
    assert result.unmapped.empty


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_non_integer_float_codes_raise() -> None:
    with pytest.raises(ValueError, match=r"occ2010 codes must be integers; got e.g. 10.5"):
        crosswalk("occ2010").apply([10.0, 10.5])
    with pytest.raises(ValueError, match="must be integers"):
        crosswalk("occ2010").apply([np.inf])


def test_text_codes_that_are_not_numbers_raise() -> None:
    with pytest.raises(ValueError):
        crosswalk("occ2010").apply(["10", "nurse"])


def test_negative_and_huge_codes_are_unmapped() -> None:
    result = crosswalk("occ1970").apply([-4, -1, 10**9, 1])
    assert result.outcome.tolist() == [UNMAPPED, UNMAPPED, UNMAPPED, MAPPED]
    assert sorted(result.unmapped["code"].tolist()) == [-4, -1, 10**9]


def test_states_categorical_is_over_the_scheme() -> None:
    result = crosswalk("occ1990").apply([3, 12345])
    assert list(result.states.categories) == list(occ1990dd().states)
    assert result.frame == "occ1990" and result.scheme == occ1990dd()


def test_to_frame_lists_every_code() -> None:
    cw = crosswalk("occ1970")
    frame = cw.to_frame()
    assert list(frame.columns) == ["from_code", "state", "source", "detail"]
    assert len(frame) == len(cw) == 442 + 5  # Dorn's file and 5 codes filled from Deming's
    assert set(frame["source"]) == {"published", "filled from the Deming (2017) occ1970 crosswalk"}
    assert frame["from_code"].is_monotonic_increasing
    assert frame.set_index("from_code").loc[580, "state"] == "military"


def test_unknown_frame_and_variant() -> None:
    with pytest.raises(ValueError, match="unknown occupation frame 'occ1950'"):
        crosswalk("occ1950")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown occ1990dd variant 'autor'"):
        crosswalk("occ1990", "autor")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown occ1990dd variant"):
        occ1990dd("autor")  # type: ignore[arg-type]


def test_crosswalks_are_cached() -> None:
    assert crosswalk("occ2010", "deming2017") is crosswalk("occ2010", "deming2017")


# ---------------------------------------------------------------------- the occ1990dd schemes


def titles_table() -> pd.DataFrame:
    with (TAXONOMY / "occ1990dd_titles.csv").open("r", encoding="utf-8", newline="") as handle:
        return pd.DataFrame(list(csv.DictReader(handle)))


def test_dorn2013_has_330_codes_with_874_folded() -> None:
    scheme = occ1990dd("dorn2013")
    table = titles_table()
    in_dorn = {int(c) for c in table.loc[table["in_dorn2013"] == "True", "code"]}
    assert len(in_dorn) == 331 and 874 in in_dorn
    assert len(scheme.codes) == 330
    assert {int(c) for c in scheme.codes} == in_dorn - {874}
    assert DORN_ONLY - {874} <= {int(c) for c in scheme.codes}
    assert not DEMING_ONLY & {int(c) for c in scheme.codes}
    assert scheme.variant == "dorn2013" and scheme.name == "occ1990dd"


def test_deming2017_has_341_codes() -> None:
    scheme = occ1990dd("deming2017")
    codes = {int(c) for c in scheme.codes}
    assert len(scheme.codes) == 341
    assert DEMING_ONLY <= codes
    assert not (DORN_ONLY | {874}) & codes
    assert len(codes & {int(c) for c in occ1990dd("dorn2013").codes}) == 326
    assert scheme.variant == "deming2017"


@pytest.mark.parametrize("variant", VARIANTS)
def test_codes_are_sorted_numeric_strings(variant: str) -> None:
    codes = occ1990dd(variant).codes
    assert [int(c) for c in codes] == sorted(int(c) for c in codes)
    assert all(str(int(c)) == c for c in codes)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_code_has_a_title_from_the_table(variant: str) -> None:
    scheme = occ1990dd(variant)
    table = titles_table().set_index("code")["title"]
    for code in scheme.codes:
        assert scheme.title(code) == table[code]
        assert scheme.title(code) and scheme.title(code) != code
    assert scheme.title("4") == "Chief executives, public administrators, and legislators"
    assert scheme.title("unemployed") == "unemployed"


@pytest.mark.parametrize("variant", VARIANTS)
def test_major_group_for_every_code_follows_the_documented_ranges(variant: str) -> None:
    scheme = occ1990dd(variant)
    groups = scheme.groups["major_group"]
    assert set(groups) == set(scheme.codes)
    for code in scheme.codes:
        expected = next(g for lo, hi, g in MAJOR_GROUP_RANGES if lo <= int(code) <= hi)
        assert groups[code] == expected, code
        assert scheme.group_of(code, "major_group") == expected
    assert len(set(groups.values())) == 16


def test_major_group_sizes_over_both_families() -> None:
    union = {**occ1990dd("deming2017").groups["major_group"], **occ1990dd("dorn2013").groups["major_group"]}
    union["874"] = "Operators: handlers, helpers, laborers"  # in the table, folded out of the dorn2013 scheme
    assert len(union) == 346
    assert Counter(union.values()) == Counter(MAJOR_GROUP_SIZES)


def test_autor_dorn_groups_cover_dorn_codes_only() -> None:
    dorn, deming = occ1990dd("dorn2013"), occ1990dd("deming2017")
    assert set(dorn.groups["ad_group"]) == set(dorn.codes)
    assert set(dorn.groups["ad_subgroup"]) == set(dorn.codes)
    assert set(deming.codes) - set(deming.groups["ad_group"]) == {str(c) for c in DEMING_ONLY}


@pytest.mark.parametrize("variant", VARIANTS)
def test_status_tokens(variant: str) -> None:
    scheme = occ1990dd(variant)
    assert scheme.status_tokens == STATUS_TOKENS
    assert scheme.states[-4:] == STATUS_TOKENS
    assert all(scheme.is_status(t) for t in STATUS_TOKENS)
    assert not scheme.is_status("4")
    assert scheme.group_of("military", "major_group") == "military"


@pytest.mark.parametrize("variant", VARIANTS)
def test_coarsen_to_major_group(variant: str) -> None:
    scheme = occ1990dd(variant)
    coarse = scheme.coarsen("major_group")
    assert len(coarse.codes) == 16
    assert set(coarse.codes) == {g for _, _, g in MAJOR_GROUP_RANGES}
    assert coarse.status_tokens == STATUS_TOKENS
    assert coarse.n_states == 20
    assert coarse.name == "occ1990dd:major_group" and coarse.variant == variant
    mapping = scheme.coarsen_map("major_group")
    assert set(mapping) == set(scheme.states)
    assert all(mapping[t] == t for t in STATUS_TOKENS)
    assert mapping["4"] == "Managerial specialty" and mapping["889"] == "Operators: handlers, helpers, laborers"


def test_coarsen_unknown_level() -> None:
    with pytest.raises(KeyError, match="no group level 'soc'"):
        occ1990dd().coarsen("soc")


def test_career_panel_coarsen() -> None:
    scheme = occ1990dd("dorn2013")
    frame = pd.DataFrame(
        {
            "person_id": [1, 1, 1, 2, 2],
            "year": [2000, 2001, 2003, 2000, 2001],
            "occ": ["4", "22", "unemployed", "889", "military"],
            "education": ["BA", "BA", "BA", "HS", "HS"],
        }
    )
    panel = CareerPanel(frame, covariates=["education"], scheme=scheme, name="p", metadata={"source": "test"})
    coarse = panel.coarsen("major_group")
    assert coarse.scheme == scheme.coarsen("major_group")
    assert coarse.data["occ"].tolist() == [
        "Managerial specialty",
        "Managerial specialty",
        "unemployed",
        "Operators: handlers, helpers, laborers",
        "military",
    ]
    assert list(coarse.data["occ"].cat.categories) == list(coarse.scheme.states)
    assert coarse.data["year"].tolist() == panel.data["year"].tolist()
    assert coarse.data["education"].tolist() == panel.data["education"].tolist()
    assert coarse.metadata == panel.metadata and coarse.name == "p"
    assert len(panel.scheme.codes) == 330  # the original is untouched


@pytest.mark.parametrize("variant", VARIANTS)
def test_occ1990dd_frame_is_the_identity_with_special_codes(variant: str) -> None:
    cw = crosswalk("occ1990dd", variant)
    scheme = occ1990dd(variant)
    codes = [int(c) for c in scheme.codes]
    result = cw.apply([*codes, 905, 991, 999, 874, 12345])
    states = states_of(result)
    assert states[: len(codes)] == list(scheme.codes)
    assert states[len(codes) : len(codes) + 3] == ["military", "unemployed", None]
    assert states[-2] == ("873" if variant == "dorn2013" else None)
    assert result.unmapped["code"].tolist() == ([12345] if variant == "dorn2013" else [874, 12345])

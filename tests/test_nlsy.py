"""NLSY79 and NLSY97 readers: exact panels and lineage for the Investigator fixtures, header styles, errors."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from laborseq.occupations.crosswalk import UnmappedCodeError, crosswalk
from laborseq.occupations.occ1990dd import taxonomy_file
from laborseq.sources.nlsy.columns import frame_from_title
from laborseq.sources.nlsy.investigator import NLSYFormatError, read_codebook, read_tagset
from laborseq.sources.nlsy.names import normalize_refnum, split_question_name
from laborseq.sources.nlsy.nlsy79 import CATALOGUE, read_nlsy79
from laborseq.sources.nlsy.nlsy97 import read_nlsy97

FIXTURES = Path(__file__).parent / "fixtures"
NLSY79 = FIXTURES / "nlsy79"
NLSY97 = FIXTURES / "nlsy97"
VERBATIM = NLSY79 / "investigator.csv"
EXTENDED = NLSY79 / "extended.csv"
YOUTH97 = NLSY97 / "nlsy97.csv"


def rows(panel) -> list[tuple[int, int, str]]:
    data = panel.data
    return list(zip(data["person_id"].tolist(), data["year"].tolist(), data["occ"].astype(str).tolist(), strict=True))


def dropped(panel) -> dict[str, int]:
    return panel.lineage.dropped_by_reason()


def assert_identity(panel) -> None:
    lineage = panel.lineage
    assert lineage.rows_read == len(panel) + lineage.rows_dropped


def dorn(filename: str, code: int) -> str:
    """occ1990dd code of ``code`` in a Dorn crosswalk file shipped with laborseq."""
    table = taxonomy_file(filename).set_index("from_code")["occ1990dd"]
    return str(int(table.loc[code]))


def copy_with_header(src: Path, dst: Path, header: list[str]) -> Path:
    lines = src.read_text().splitlines()
    dst.write_text(",".join(header) + "\n" + "\n".join(lines[1:]) + "\n")
    return dst


# ----------------------------------------------------------------- the docs/survey-formats.md fixture
VERBATIM_EXPECTED = [
    (1, 1979, "22"),  # CPSOCC70 201
    (1, 1980, "22"),
    (1, 1982, "243"),  # CPSOCC80 243
    (1, 2000, "243"),
    (1, 2002, "22"),  # roster 2002, 3-digit 2000 code 22
    (1, 2004, "22"),  # roster 2004, 4-digit 220
    (1, 2008, "22"),
    (2, 1980, "378"),  # CPSOCC70 313
    (3, 1979, "out_of_labor_force"),  # 995 did not work
    (3, 1980, "668"),  # CPSOCC70 401
    (3, 2000, "575"),  # CPSOCC80 575 (2002: 2000 code 575 is unmapped)
    (3, 2004, "567"),  # 6230
    (3, 2008, "567"),
    (4, 1979, "889"),  # CPSOCC70 785
    (4, 1980, "889"),
    (4, 1982, "889"),  # CPSOCC80 889
    (4, 2000, "889"),
    (4, 2002, "889"),  # 962
    (4, 2004, "889"),  # 9620
]
VERBATIM_DROPPED = {
    "-5 non-interview": 4,
    "-4 valid skip": 8,
    "-3 invalid skip": 1,
    "-2 don't know": 1,
    "-1 refusal": 1,
    "not an occ2000 code": 1,
}


def test_verbatim_fixture_gives_the_hand_checked_panel():
    panel = read_nlsy79(VERBATIM)
    assert rows(panel) == VERBATIM_EXPECTED
    assert panel.name == "nlsy79"


def test_verbatim_fixture_codes_match_the_crosswalk_files():
    got = {(p, y): s for p, y, s in rows(read_nlsy79(VERBATIM))}
    f70, f00 = "crosswalk_occ1970_occ1990dd.csv", "crosswalk_occ2000_occ1990dd.csv"
    assert got[1, 1979] == dorn(f70, 201)
    assert got[2, 1980] == dorn(f70, 313)
    assert got[3, 1980] == dorn(f70, 401)
    assert got[4, 1979] == dorn(f70, 785)
    assert got[1, 2002] == dorn(f00, 22)
    assert got[4, 2002] == dorn(f00, 962)
    assert got[3, 2004] == dorn(f00, 6230 // 10)  # 4-digit codes: the 3-digit code times ten
    assert got[4, 2004] == dorn(f00, 9620 // 10)
    cw80 = crosswalk("occ1980")
    assert got[1, 1982] == cw80.mapping[243]
    assert got[4, 1982] == cw80.mapping[889]
    assert 575 not in crosswalk("occ2000").mapping  # why person 3 has no 2002 row


def test_verbatim_fixture_lineage_counts_every_candidate():
    panel = read_nlsy79(VERBATIM)
    assert panel.lineage.rows_read == 5 * 7  # persons x occupation variables
    assert dropped(panel) == VERBATIM_DROPPED
    assert panel.lineage.rows_recoded == 1  # 995 -> out_of_labor_force
    assert_identity(panel)


def test_verbatim_fixture_person_covariates():
    data = read_nlsy79(VERBATIM).data.drop_duplicates("person_id").set_index("person_id")
    assert data["gender"].astype(str).to_dict() == {1: "female", 2: "female", 3: "male", 4: "male"}
    assert data["race"].astype(str).to_dict() == {
        1: "non_black_non_hispanic",
        2: "non_black_non_hispanic",
        3: "non_black_non_hispanic",
        4: "black",
    }
    assert set(data["sample"].astype(str)) == {"cross_section"}


def test_verbatim_fixture_metadata_lists_variables_and_frames():
    meta = read_nlsy79(VERBATIM).metadata
    frames = {v["variable"]: v["frame"] for v in meta["occupation_variables"]}
    assert frames == {
        "CPSOCC70_1979": "occ1970",
        "CPSOCC70_1980": "occ1970",
        "CPSOCC80_1982": "occ1980",
        "CPSOCC80_2000": "occ1980",
        "OCCALL-EMP.01_2002": "occ2000",
        "OCCALL-EMP.01_2004": "occ2000_4digit",
        "OCCALL-EMP.01_2008": "occ2000_4digit",
    }
    assert meta["header"] == "reference numbers"
    assert meta["ignored_columns"] == [] and meta["n_ignored_columns"] == 0
    assert meta["weight"] is None


def test_tagset_fixture_lists_the_csv_columns():
    header = VERBATIM.read_text().splitlines()[0].split(",")
    assert read_tagset(NLSY79 / "investigator.NLSY79") == header


# ---------------------------------------------------------------------- header styles
def _sas_header() -> list[str]:
    return [
        "CASEID_1979",
        "SAMPLE_ID_1979",
        "SAMPLE_RACE_78SCRN",
        "SAMPLE_SEX_1979",
        "CPSOCC70_1979",
        "CPSOCC70_1980",
        "CPSOCC80_1982",
        "CPSOCC80.01_2000",
        "OCCALL-EMP.01_2002",
        "OCCALL-EMP.01_2004",
        "OCCALL-EMP.01_2008",
    ]


@pytest.mark.parametrize("style", ["stata", "sas", "lower", "dat"])
def test_header_styles_give_identical_panels(style, tmp_path):
    reference = read_nlsy79(VERBATIM)
    if style == "stata":
        path = NLSY79 / "investigator_stata.csv"
    elif style == "sas":
        path = copy_with_header(VERBATIM, tmp_path / "sas.csv", _sas_header())
    elif style == "lower":
        path = copy_with_header(VERBATIM, tmp_path / "lower.csv", [h.lower() for h in _sas_header()])
    else:
        path = NLSY79 / "investigator.dat"
    panel = read_nlsy79(path)
    pd.testing.assert_frame_equal(panel.data, reference.data)
    assert panel.lineage.to_dict()["dropped"] == reference.lineage.to_dict()["dropped"]
    assert panel.lineage.rows_read == reference.lineage.rows_read


def test_dat_needs_its_tagset(tmp_path):
    dat = shutil.copy(NLSY79 / "investigator.dat", tmp_path / "extract.dat")
    with pytest.raises(NLSYFormatError, match="tagset"):
        read_nlsy79(dat)
    panel = read_nlsy79(dat, tagset=NLSY79 / "investigator.NLSY79")
    assert rows(panel) == VERBATIM_EXPECTED
    assert panel.metadata["header"] == "tagset"


def test_headerless_csv_with_tagset(tmp_path):
    body = VERBATIM.read_text().splitlines()[1:]
    path = tmp_path / "investigator.csv"
    path.write_text("\n".join(body) + "\n")
    shutil.copy(NLSY79 / "investigator.NLSY79", tmp_path / "investigator.NLSY79")
    assert rows(read_nlsy79(path)) == VERBATIM_EXPECTED


# ---------------------------------------------------------------------- options
def test_did_not_work_options():
    unemployed = {(p, y): s for p, y, s in rows(read_nlsy79(VERBATIM, did_not_work="unemployed"))}
    assert unemployed[3, 1979] == "unemployed"
    panel = read_nlsy79(VERBATIM, did_not_work="drop")
    assert (3, 1979) not in {(p, y) for p, y, _ in rows(panel)}
    assert dropped(panel)["995 did not work"] == 1
    assert panel.lineage.rows_recoded == 0
    assert_identity(panel)
    with pytest.raises(ValueError, match="did_not_work"):
        read_nlsy79(VERBATIM, did_not_work="retired")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="occupation"):
        read_nlsy79(VERBATIM, occupation="both")  # type: ignore[arg-type]


def test_on_unmapped_raise_names_the_code():
    with pytest.raises(UnmappedCodeError, match="575"):
        read_nlsy79(VERBATIM, on_unmapped="raise")


def test_rounds_selection_is_counted():
    panel = read_nlsy79(VERBATIM, rounds=[1979, 2004])
    assert sorted({y for _, y, _ in rows(panel)}) == [1979, 2004]
    assert dropped(panel)["outside selected rounds"] == 5 * 5
    assert panel.lineage.rows_read == 35
    assert panel.metadata["rounds"] == [1979, 2004]
    assert_identity(panel)
    with pytest.raises(ValueError, match="none of the selected rounds"):
        read_nlsy79(VERBATIM, rounds=[1995])


def test_persons_selection_is_counted():
    panel = read_nlsy79(VERBATIM, persons=[1, 4], rounds=[1979, 1980])
    assert rows(panel) == [(1, 1979, "22"), (1, 1980, "22"), (4, 1979, "889"), (4, 1980, "889")]
    assert dropped(panel)["person not selected"] == 3 * 7
    assert dropped(panel)["outside selected rounds"] == 2 * 5
    assert_identity(panel)
    with pytest.raises(ValueError, match="none of the 1 selected persons"):
        read_nlsy79(VERBATIM, persons=[99])


def test_deming_variant():
    panel = read_nlsy79(VERBATIM, variant="deming2017")
    assert panel.metadata["occ1990dd_variant"] == "deming2017"
    assert_identity(panel)


# ---------------------------------------------------------------------- the extended extract (codebook)
EXTENDED_EXPECTED = [
    (11, 1979, "22"),
    (11, 1980, "22"),  # CPSOCC70 990 dropped; roster job 01 (1970 code 201) fills the year
    (11, 1983, "243"),  # CPSOCC80 wins over CPSOCC70 and the roster
    (11, 1996, "243"),
    (11, 2002, "22"),
    (11, 2008, "22"),  # job 01 wins over job 02
    (11, 2016, "22"),
    (11, 2022, "22"),  # 2010 code 220
    (12, 1979, "out_of_labor_force"),  # 996 never worked
    (12, 1980, "out_of_labor_force"),  # 995 did not work
    (12, 1996, "889"),  # CPSOCC80 999 not reported; roster 785
    (13, 2008, "military"),  # 9840
    (14, 1979, "889"),
    (14, 1980, "889"),  # roster 785 where CPSOCC70 is a valid skip
    (14, 1983, "889"),
    (14, 1996, "889"),
    (14, 2002, "889"),
    (14, 2008, "out_of_labor_force"),  # 9950
    (14, 2016, "889"),
    (15, 1979, "668"),
    (16, 1980, "22"),
    (16, 1983, "22"),
    (16, 2022, "95"),  # 2010 code 3255 (registered nurses); read as 2000-based it would be 86
]
EXTENDED_DROPPED = {
    "missing value (blank)": 2,
    "-5 non-interview": 19,
    "-4 valid skip": 26,
    "-3 invalid skip": 1,
    "-2 don't know": 1,
    "-1 refusal": 1,
    "990 same as present job": 1,
    "999 not reported": 1,
    "not an occ2000 code": 1,
    "no occupation (occ2000_4digit code meaning none)": 1,  # 9990 uncodeable
    "superseded by a higher-priority occupation variable": 7,
}


def test_extended_extract_hand_checked_panel_and_lineage():
    panel = read_nlsy79(EXTENDED)
    assert rows(panel) == EXTENDED_EXPECTED
    assert panel.lineage.rows_read == 6 * 14
    assert dropped(panel) == EXTENDED_DROPPED
    assert panel.lineage.rows_recoded == 2
    assert_identity(panel)


def test_codebook_chooses_frames_from_titles():
    meta = read_nlsy79(EXTENDED).metadata
    by_var = {v["variable"]: v for v in meta["occupation_variables"]}
    assert by_var["OCCALL-EMP.01_2022"]["frame"] == "occ2010"  # "(CENSUS 4 DIGIT, 10 CODES)"
    assert by_var["OCCALL-EMP.01_2016"]["frame"] == "occ2000_4digit"  # comment says 1970: only the title counts
    assert by_var["OCCALL-EMP.01_2002"]["frame"] == "occ2000"
    assert by_var["OCCALL-EMP.01_1980"]["frame"] == "occ1970"
    assert all(v["frame_from"] == "codebook title" for v in by_var.values())
    assert meta["codebook"].endswith("extended.cdb")


def test_without_codebook_the_catalogue_and_round_table_apply():
    panel = read_nlsy79(EXTENDED, codebook=False)
    got = {(p, y): s for p, y, s in rows(panel)}
    # 3255 (a 2010 code) read in the 2000-based 4-digit frame is no code of it: counted, not misread as 325
    assert (16, 2022) not in got
    assert panel.lineage.dropped_by_reason()["not an occ2000_4digit code"] == 1
    meta = panel.metadata
    assert {v["variable"]: v["frame"] for v in meta["occupation_variables"]}["OCCALL-EMP.01_2022"] == "occ2000_4digit"
    # covariates are known only by question name: without the codebook their reference numbers are ignored
    assert sorted(meta["ignored_columns"]) == ["R0000300", "R0216101", "R0216400", "R0216701", "R0405700", "R0406401"]
    assert "region" not in panel.data.columns
    assert_identity(panel)


def test_codebook_title_overrides_the_round_table(tmp_path):
    book = tmp_path / "other.cdb"
    book.write_text(
        "R78980.00    [OCCALL-EMP.01]                                Survey Year: 2004\n"
        "  PRIMARY VARIABLE\n\n \n"
        "             OCCUPATION (CENSUS 4 DIGIT, 10 CODES) (ALL) JOB #01\n \n"
        "Refusal(-1)            0\n"
        "-" * 80 + "\n"
    )
    panel = read_nlsy79(VERBATIM, codebook=book)
    frames = {v["variable"]: (v["frame"], v["frame_from"]) for v in panel.metadata["occupation_variables"]}
    assert frames["OCCALL-EMP.01_2004"] == ("occ2010", "codebook title")
    assert frames["OCCALL-EMP.01_2008"] == ("occ2000_4digit", "round table")  # not in that codebook: catalogue
    got = {(p, y): s for p, y, s in rows(panel)}
    cw10 = crosswalk("occ2010")
    assert got[3, 2004] == cw10.mapping[6230]
    assert_identity(panel)


def test_extended_covariates():
    data = read_nlsy79(EXTENDED).data.set_index(["person_id", "year"])
    assert data.loc[(11, 1979), "region"] == "northeast"
    assert data.loc[(11, 1980), "region"] == "south"
    assert data.loc[(11, 1979), "education"] == "high_school"  # HGCREV79 12
    assert data.loc[(11, 1980), "education"] == "some_college"  # HGCREV80 13
    assert data.loc[(16, 1980), "education"] == "postgraduate"  # 17
    assert pd.isna(data.loc[(14, 1979), "education"])  # blank
    assert pd.isna(data.loc[(15, 1979), "education"])  # 95 ungraded
    assert pd.isna(data.loc[(11, 1983), "region"])  # no REGION variable for 1983
    assert data.loc[(15, 1979), "sample"] == "military"
    assert data.loc[(16, 1980), "sample"] == "supplemental"
    assert data.loc[(16, 1980), "race"] == "hispanic"


def test_weights_of_a_single_round_become_a_covariate_when_other_rounds_lack_them():
    panel = read_nlsy79(EXTENDED)
    assert not panel.has_weight
    assert panel.metadata["weight"]["used_as"] == "covariate sampling_weight"
    data = panel.data.set_index(["person_id", "year"])
    assert data.loc[(11, 1979), "sampling_weight"] == pytest.approx(1234.56)  # 123456, two implied decimals
    assert pd.isna(data.loc[(11, 1980), "sampling_weight"])


def test_weights_are_the_panel_weight_when_every_person_year_has_one():
    panel = read_nlsy79(EXTENDED, rounds=[1979])
    assert rows(panel) == [(11, 1979, "22"), (12, 1979, "out_of_labor_force"), (14, 1979, "889"), (15, 1979, "668")]
    assert panel.has_weight
    np.testing.assert_allclose(panel.weights, [1234.56, 987.65, 2000.0, 0.0])
    assert panel.metadata["weight"]["used_as"] == "panel weight"
    assert dropped(panel) == {"outside selected rounds": 6 * 13, "-4 valid skip": 2}
    assert_identity(panel)


def test_roster_priority_option():
    cps = {(p, y): s for p, y, s in rows(read_nlsy79(EXTENDED))}
    roster_panel = read_nlsy79(EXTENDED, occupation="roster")
    roster = {(p, y): s for p, y, s in rows(roster_panel)}
    assert cps[16, 1980] == "22" and roster[16, 1980] == "378"  # CPSOCC70 201 vs roster job 01 313
    assert cps[11, 1983] == "243" and roster[11, 1983] == "378"  # CPSOCC80 243 vs roster 313
    assert roster[11, 2008] == "22"  # job 01 still beats job 02
    priorities = {v["variable"]: v["priority"] for v in roster_panel.metadata["occupation_variables"]}
    assert priorities["OCCALL-EMP.01_1983"] == 0
    assert priorities["CPSOCC80_1983"] == 1
    assert priorities["CPSOCC70_1983"] == 2
    assert priorities["OCCALL-EMP.02_2008"] == 3
    assert_identity(roster_panel)


def test_ignored_reference_numbers_are_listed():
    meta = read_nlsy79(EXTENDED).metadata
    assert meta["ignored_columns"] == ["R0000300"]
    assert meta["n_ignored_columns"] == 1


# ---------------------------------------------------------------------- codebook and names
def test_codebook_entries():
    book = read_codebook(NLSY79 / "extended.cdb")
    assert len(book) == 23
    race = book.entries["R0214700"]
    assert (race.qname, race.year_label) == ("SAMPLE_RACE", "78SCRN")
    assert book.entries["R0216101"].implied_decimals == 2  # "TWO IMPLIED DECIMAL PLACES"
    assert book.entries["T5256900"].title == "OCCUPATION (CENSUS 4 DIGIT, 00 CODES) (ALL) JOB #01"
    assert book.entries["R0046400"].implied_decimals is None
    weight97 = read_codebook(NLSY97 / "nlsy97.cdb").entries["R1236101"]
    assert weight97.implied_decimals == 2  # "(2 IMPLIED DECIMAL PLACES)"


@pytest.mark.parametrize(
    ("title", "default", "expected"),
    [
        ("OCCUPATION (CENSUS 4 DIGIT, 00 CODES) (ALL) JOB #01", "occ1970", ("occ2000_4digit", True)),
        ("OCCUPATION (CENSUS 3 DIGIT, 00 CODES) (ALL) JOB #01", "occ2000_4digit", ("occ2000", True)),
        ("OCCUPATION (CENSUS 4 DIGIT, 10 CODES) (ALL) JOB #01", "occ2000_4digit", ("occ2010", True)),
        ("OCCUPATION (CENSUS 3 DIGIT, 70 CODES) (ALL) JOB #01", "occ2000", ("occ1970", True)),
        ("OCCUPATION OF CURRENT/MOST RECENT JOB (CPS) (1980 CENSUS CODES)", "occ1970", ("occ1980", True)),
        ("OCCUPATION (2010 CENSUS) JOB #01", "occ2000_4digit", ("occ2010", True)),
        ("OCCUPATION (CENSUS 4 DIGIT, 2002 CODES) JOB #01", "occ2000_4digit", ("occ2000_4digit", True)),
        ("OCCUPATION (CENSUS 3 DIGIT) JOB #01", "occ2000_4digit", ("occ2000", True)),
        ("1979 OCCUPATION OF CURRENT JOB", "occ1970", ("occ1970", False)),
        ("", "occ1980", ("occ1980", False)),
    ],
)
def test_frame_from_title(title, default, expected):
    assert frame_from_title(title, default) == expected


def test_names():
    assert normalize_refnum("R00464.00") == "R0046400"
    assert normalize_refnum("t1298000") == "T1298000"
    assert normalize_refnum("CPSOCC70_1979") is None
    assert split_question_name("OCCALL-EMP.01_2008") == ("OCCALL_EMP_01", "2008")
    assert split_question_name("occall_emp_01_2008") == ("OCCALL_EMP_01", "2008")
    assert split_question_name("CPSOCC80.01_2000") == ("CPSOCC80_01", "2000")
    assert split_question_name("KEY!SEX_1997") == ("KEY_SEX", "1997")
    assert split_question_name("YEMP_OCCODE-2002.01_2008") == ("YEMP_OCCODE_2002_01", "2008")
    assert split_question_name("SAMPLE_RACE_78SCRN") == ("SAMPLE_RACE", "78SCRN")
    assert split_question_name("CASEID") == ("CASEID", None)


def test_catalogue_holds_the_survey_formats_reference_numbers():
    assert CATALOGUE["R0046400"] == ("CPSOCC70", "1979")
    assert CATALOGUE["R6592900"] == ("CPSOCC80.01", "2000")
    assert CATALOGUE["T1298400"] == ("OCCALL-EMP.05", "2008")
    assert CATALOGUE["T8982400"] == ("OCCALL-EMP.01", "2022")
    assert sum(q == "CPSOCC70" for q, _ in CATALOGUE.values()) == 15
    assert sum(q.startswith("CPSOCC80") for q, _ in CATALOGUE.values()) == 16


# ---------------------------------------------------------------------- malformed input
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        read_nlsy79(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(NLSYFormatError, match=r"empty\.csv: the file is empty"):
        read_nlsy79(path)


def test_header_only(tmp_path):
    path = tmp_path / "head.csv"
    path.write_text(VERBATIM.read_text().splitlines()[0] + "\n")
    with pytest.raises(NLSYFormatError, match="no data rows"):
        read_nlsy79(path)


def test_no_id_column(tmp_path):
    lines = [",".join(line.split(",")[1:]) for line in VERBATIM.read_text().splitlines()]
    path = tmp_path / "noid.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NLSYFormatError, match=r"noid.csv: no person id column \(R0000100 or CASEID_1979\)"):
        read_nlsy79(path)


def test_non_numeric_code_names_column_and_row(tmp_path):
    text = VERBATIM.read_text().replace("3,1,3,1,995,401,", "3,1,3,1,995,4O1,")
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(NLSYFormatError, match=r"R0263400 \(CPSOCC70_1980\).*'4O1'.*data row 3 \(line 4\)"):
        read_nlsy79(path)


def test_non_numeric_person_id(tmp_path):
    path = tmp_path / "badid.csv"
    path.write_text(VERBATIM.read_text().replace("\n4,3,2,1,", "\nX4,3,2,1,"))
    with pytest.raises(NLSYFormatError, match=r"R0000100 \(CASEID_1979\).*'X4'.*data row 4"):
        read_nlsy79(path)


def test_duplicated_person_ids_are_named(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(VERBATIM.read_text().replace("\n4,3,2,1,", "\n2,3,2,1,"))
    with pytest.raises(NLSYFormatError, match=r"person id\(s\) \[2\] appear more than once.*data rows \[2, 4\]"):
        read_nlsy79(path)


def test_dat_field_count_names_the_line(tmp_path):
    lines = (NLSY79 / "investigator.dat").read_text().splitlines()
    lines[2] = lines[2] + " 7"
    path = tmp_path / "investigator.dat"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NLSYFormatError, match=r"investigator.dat, line 3: 12 fields, but 11 columns"):
        read_nlsy79(path, tagset=NLSY79 / "investigator.NLSY79")


def test_csv_ragged_row_names_the_line(tmp_path):
    lines = VERBATIM.read_text().splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0]
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NLSYFormatError, match=r"ragged.csv, line 5: 10 fields, but 11 columns"):
        read_nlsy79(path)


def test_no_occupation_variable(tmp_path):
    path = tmp_path / "keys.csv"
    path.write_text("R0000100,R0214800,R9999900\n1,2,3\n")
    with pytest.raises(NLSYFormatError, match=r"keys.csv: no NLSY79 occupation variable") as err:
        read_nlsy79(path)
    message = str(err.value)
    for expected in ("CPSOCC70", "CPSOCC80", "OCCALL-EMP.01", "R9999900", "keys.cdb"):
        assert expected in message
    assert "[]" not in message
    path.write_text("R0000100,R0214800\n1,2\n")  # every column named: no empty list of unknown references
    with pytest.raises(NLSYFormatError) as err:
        read_nlsy79(path)
    assert "cannot name" not in str(err.value) and "[]" not in str(err.value)


def test_occupation_variable_twice(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("R0000100,R0046400,CPSOCC70_1979\n1,201,201\n")
    with pytest.raises(NLSYFormatError, match="CPSOCC70_1979 appears twice"):
        read_nlsy79(path)


def test_occupation_variable_without_year(tmp_path):
    path = tmp_path / "noyear.csv"
    path.write_text("CASEID,CPSOCC70\n1,201\n")
    with pytest.raises(NLSYFormatError, match=r"has no survey year; rename it .*CPSOCC70_1990.*noyear.NLSY79"):
        read_nlsy79(path)


def test_bad_tagset_and_codebook(tmp_path):
    tagset = tmp_path / "bad.NLSY79"
    tagset.write_text("R0000100\nCPSOCC70\n")
    with pytest.raises(NLSYFormatError, match=r"bad.NLSY79, line 2: 'CPSOCC70' is not a reference number"):
        read_tagset(tagset)
    book = tmp_path / "bad.cdb"
    book.write_text("not a codebook\n")
    with pytest.raises(NLSYFormatError, match="no codebook entries"):
        read_nlsy79(VERBATIM, codebook=book)
    with pytest.raises(FileNotFoundError, match=r"missing\.cdb"):
        read_nlsy79(VERBATIM, codebook=tmp_path / "missing.cdb")


# ---------------------------------------------------------------------- NLSY97
YOUTH_EXPECTED = [
    (1, 1997, "435"),  # job 01 4110; job 02 superseded
    (1, 2002, "154"),  # job 01 valid skip; job 02 2200
    (1, 2011, "military"),  # 9840
    (1, 2013, "22"),  # 220
    (1, 2019, "95"),  # 2010 code 3255 (codebook title)
    (2, 2002, "out_of_labor_force"),  # 9950
    (3, 2011, "313"),  # 5700
    (3, 2019, "276"),  # 2010 code 4720
    (4, 1997, "4"),  # 10: chief executives
    (4, 2002, "276"),  # 4720; job 02 superseded
    (5, 2011, "154"),
    (5, 2013, "154"),
]
YOUTH_DROPPED = {
    "missing value (blank)": 1,
    "-5 non-interview": 5,
    "-4 valid skip": 10,
    "-3 invalid skip": 1,
    "-2 don't know": 1,
    "-1 refusal": 1,
    "no occupation (occ2000_4digit code meaning none)": 1,  # 9990
    "not an occ2000_4digit code": 1,  # 9999
    "superseded by a higher-priority occupation variable": 2,
}


def test_nlsy97_hand_checked_panel_and_lineage():
    panel = read_nlsy97(YOUTH97)
    assert rows(panel) == YOUTH_EXPECTED
    assert panel.lineage.rows_read == 5 * 7
    assert dropped(panel) == YOUTH_DROPPED
    assert_identity(panel)
    assert panel.name == "nlsy97"
    assert panel.metadata["header"] == "question names"
    frames = {v["variable"]: v["frame"] for v in panel.metadata["occupation_variables"]}
    assert frames["YEMP_OCCODE-2002.01_2019"] == "occ2010"
    assert frames["YEMP_OCCODE-2002.02_1997"] == "occ2000_4digit"


def test_nlsy97_covariates_and_weights():
    panel = read_nlsy97(YOUTH97)
    data = panel.data.set_index(["person_id", "year"])
    assert data.loc[(2, 2002), "race"] == "mixed_race_non_hispanic"
    assert data.loc[(4, 1997), "race"] == "hispanic"
    assert data.loc[(3, 2011), "gender"] == "female"
    assert data.loc[(1, 1997), "region"] == "south"
    assert data.loc[(1, 1997), "education"] == "less_than_high_school"  # CV_HGC_EVER_EDT 9
    assert not panel.has_weight and "sampling_weight" in data.columns
    first = read_nlsy97(YOUTH97, rounds=[1997])
    assert rows(first) == [(1, 1997, "435"), (4, 1997, "4")]
    np.testing.assert_allclose(first.weights, [2500.0, 3000.0])
    assert_identity(first)


def test_nlsy97_header_styles_and_reference_numbers(tmp_path):
    reference = read_nlsy97(YOUTH97)
    header = YOUTH97.read_text().splitlines()[0].split(",")
    stata = copy_with_header(
        YOUTH97, tmp_path / "stata.csv", [h.replace("!", "_").replace("-", "_").replace(".", "_") for h in header]
    )
    panel = read_nlsy97(stata, codebook=NLSY97 / "nlsy97.cdb")
    pd.testing.assert_frame_equal(panel.data, reference.data)
    lower = copy_with_header(YOUTH97, tmp_path / "lower.csv", [h.lower() for h in header])
    pd.testing.assert_frame_equal(read_nlsy97(lower, codebook=NLSY97 / "nlsy97.cdb").data, reference.data)
    # reference-number header: the codebook maps the columns (CV_HGC_EVER_EDT keeps its question name)
    book = read_codebook(NLSY97 / "nlsy97.cdb")
    by_name = {f"{e.qname}_{e.year_label}": ref for ref, e in book.entries.items()}
    refs = [by_name.get(h, h) for h in header]
    path = copy_with_header(YOUTH97, tmp_path / "extract.csv", refs)
    shutil.copy(NLSY97 / "nlsy97.cdb", tmp_path / "extract.cdb")
    by_ref = read_nlsy97(path)
    pd.testing.assert_frame_equal(by_ref.data, reference.data)
    assert by_ref.metadata["header"] == "mixed"
    with pytest.raises(NLSYFormatError, match=r"put its codebook \(extract.cdb\) beside the file"):
        read_nlsy97(path, codebook=False)


def test_nlsy97_without_codebook_uses_the_2002_frame():
    panel = read_nlsy97(YOUTH97, codebook=False)
    got = {(p, y): s for p, y, s in rows(panel)}
    assert (1, 2019) not in got  # 3255, a 2010 code, is no code of the 2000-based frame: counted, not misread
    assert panel.lineage.to_dict()["dropped"]["not an occ2000_4digit code"] == 2  # 3255 and 9999
    with pytest.raises(UnmappedCodeError, match="9999"):
        read_nlsy97(YOUTH97, on_unmapped="raise")


# ---------------------------------------------------------------------- speed
@pytest.mark.slow
def test_speed_100k_persons_20_rounds(tmp_path):
    """100,000 persons x 20 rounds (reference-number header) in well under the issue's budget."""
    rng = np.random.default_rng(0)
    n = 100_000
    occ = [ref for ref, (q, y) in CATALOGUE.items() if q == "CPSOCC70"]
    occ += [ref for ref, (q, y) in CATALOGUE.items() if q.startswith("CPSOCC80") and int(y) >= 1994]
    occ += ["R7209600"]
    pool = np.array(sorted(crosswalk("occ1970").mapping))
    table = {"R0000100": np.arange(1, n + 1), "R0214800": rng.integers(1, 3, n)}
    for ref in occ:
        table[ref] = np.where(rng.random(n) < 0.25, rng.integers(-5, 0, n), rng.choice(pool, n))
    path = tmp_path / "big.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    start = time.perf_counter()
    panel = read_nlsy79(path)
    elapsed = time.perf_counter() - start
    assert panel.lineage.rows_read == n * 20
    assert_identity(panel)
    assert elapsed < 30

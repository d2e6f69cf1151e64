"""Tests for the PSID reader: setup-file layouts, the fixed-width data, and the panel with its lineage.

Fixtures (tests/fixtures/psid, described in its README) are Data Center J-files in the real
layouts with synthetic values: J100001 is the docs/survey-formats.md C.2 fixture verbatim (with .do,
.sps and .sas), J100003 its CRLF twin, J100002 a five-wave extract (1970, 2000 and 2010 codes).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import laborseq
from laborseq.occupations.crosswalk import UnmappedCodeError
from laborseq.sources.psid.fixed_width import read_fixed_width
from laborseq.sources.psid.layout import Layout, PSIDFormatError
from laborseq.sources.psid.reader import read_psid
from laborseq.sources.psid.reference_tables import (
    OCCUPATION_VARIABLES,
    WAVE_IDS,
    frame_for_year,
    is_wave,
    relationship_codes,
)
from laborseq.sources.psid.setup_files import find_setup_file, read_layout
from laborseq.sources.psid.variables import resolve_occupation_variables, resolve_wave_ids

FIXTURES = Path(__file__).parent / "fixtures" / "psid"
TAXONOMY = Path(laborseq.__file__).parent / "resources" / "taxonomy"
J1 = FIXTURES / "J100001.txt"
J2 = FIXTURES / "J100002.txt"
J3 = FIXTURES / "J100003.txt"
SURVEY_FORMATS_ROWS = [
    "1   4  1 1208 110 22313",
    "1   4  2 1208 220 22313",
    "1   4 30    0 0 0  0  0",
    "11501170 3377 110962  0",
]
NOT_IN_UNIT = "not in a family unit this wave"
OTHER = "occupation variable of the other partner"


def occ1990dd(frame: str, code: int, variant: str = "dorn2013") -> str:
    """The occ1990dd code of a source code, looked up in the shipped crosswalk file."""
    suffix = "" if variant == "dorn2013" else "_deming2017"
    table = pd.read_csv(TAXONOMY / f"crosswalk_{frame}_occ1990dd{suffix}.csv").set_index("from_code")["occ1990dd"]
    return str(int(table.loc[code]))


def rows(panel) -> list[tuple[int, int, str, str]]:
    data = panel.data
    return list(zip(data.person_id, data.year, data.occ.astype(str), data.role.astype(str), strict=True))


def copy_fixture(tmp_path: Path, stem: str, suffixes=(".txt", ".do")) -> Path:
    for suffix in suffixes:
        shutil.copy(FIXTURES / f"{stem}{suffix}", tmp_path / f"{stem}{suffix}")
    return tmp_path / f"{stem}.txt"


def edit(path: Path, old: str, new: str, *, regex: bool = False) -> None:
    text = path.read_text()
    changed = re.sub(old, new, text, count=1) if regex else text.replace(old, new, 1)
    assert changed != text, f"{old!r} not found in {path.name}"
    path.write_text(changed)


def check_lineage(panel) -> None:
    lineage = panel.lineage
    assert lineage.rows_read == len(panel) + lineage.rows_dropped
    assert lineage.rows_kept == len(panel)


# ---------------------------------------------------------------------- layouts
def test_the_fixture_is_the_survey_formats_one_verbatim():
    assert J1.read_text().splitlines() == SURVEY_FORMATS_ROWS
    assert J3.read_bytes() == ("\r\n".join(SURVEY_FORMATS_ROWS) + "\r\n").encode()


@pytest.mark.parametrize("stem", ["J100001", "J100002"])
def test_setup_formats_parse_to_the_same_layout(stem):
    suffixes = [s for s in (".do", ".sps", ".sas") if (FIXTURES / f"{stem}{s}").exists()]
    assert len(suffixes) >= 2
    layouts = [read_layout(FIXTURES / f"{stem}{s}") for s in suffixes]
    first = layouts[0]
    for layout in layouts[1:]:
        assert [(f.name, f.start, f.end) for f in layout] == [(f.name, f.start, f.end) for f in first]
        assert {n: layout.label(n) for n in layout.names} == {n: first.label(n) for n in first.names}
        assert (layout.record_length, layout.n_observations, layout.n_variables) == (
            first.record_length,
            first.n_observations,
            first.n_variables,
        )
    assert [layout.kind for layout in layouts] == [s.lstrip(".") for s in suffixes]


def test_do_layout_of_the_survey_formats_fixture():
    layout = read_layout(J1)  # the .do is preferred
    assert layout.kind == "do"
    assert [(f.name, f.start, f.end) for f in layout] == [
        ("ER30000", 1, 1),
        ("ER30001", 2, 5),
        ("ER30002", 6, 8),
        ("ER33701", 9, 13),
        ("ER33702", 14, 15),
        ("ER33703", 16, 17),
        ("ER21145", 18, 20),
        ("ER21395", 21, 23),
    ]
    assert layout.label("ER21145") == "BC20 MAIN OCC FOR JOB 1: 2000 CODE (HD)"
    assert layout.label("ER33702") == "SEQUENCE NUMBER 03"
    assert layout.header["JOBID"] == "100001"
    assert (layout.record_length, layout.n_observations, layout.n_variables, layout.width) == (23, 4, 8, 23)
    assert layout.colspecs(["ER30001", "ER21395"]) == [(1, 5), (20, 23)]


def test_read_fwf_with_the_colspecs_reproduces_the_values():
    layout = read_layout(J1)
    reference = pd.read_fwf(J1, colspecs=layout.colspecs(), names=list(layout.names), dtype=str, header=None)
    ours = read_fixed_width(J1, layout)
    pd.testing.assert_frame_equal(ours, reference.apply(pd.to_numeric).astype(float))
    assert ours.loc[0, "ER21145"] == 22 and ours.loc[1, "ER21395"] == 313 and ours.loc[3, "ER30001"] == 1501


def test_setup_file_preference_and_missing_setup(tmp_path):
    data = copy_fixture(tmp_path, "J100001", (".txt", ".do", ".sps", ".sas"))
    assert find_setup_file(data).suffix == ".do"
    (tmp_path / "J100001.do").unlink()
    assert read_layout(data).kind == "sps"
    (tmp_path / "J100001.sps").unlink()
    assert read_layout(data).kind == "sas"
    (tmp_path / "J100001.sas").unlink()
    with pytest.raises(FileNotFoundError, match=r"J100001\.do, \.sps or \.sas.*J100001\.txt"):
        read_layout(data)
    with pytest.raises(FileNotFoundError, match=re.escape("J100001.txt")):
        read_psid(data)


def test_stata_dictionary_and_typed_infix(tmp_path):
    (tmp_path / "J5.do").write_text('infile using "J5.dct", clear\nlabel variable ER30001 "1968 INTERVIEW NUMBER"\n')
    (tmp_path / "J5.dct").write_text(
        'infix dictionary using J5.txt {\n  ER30001  1 - 4\n  long ER30002  5 - 7  "PERSON NUMBER 68"\n}\n'
    )
    layout = read_layout(tmp_path / "J5.do")
    assert layout.kind == "dct" and [(f.name, f.start, f.end) for f in layout] == [("ER30001", 1, 4), ("ER30002", 5, 7)]
    assert layout.labels == {"ER30001": "1968 INTERVIEW NUMBER", "ER30002": "PERSON NUMBER 68"}
    (tmp_path / "J6.dct").write_text(
        'dictionary using J6.txt {\n  _column(1) int ER30001 %4f "1968 INTERVIEW NUMBER"\n'
        "  _column(5) int ER30002 %3f\n}\n"
    )
    assert [(f.start, f.end) for f in read_layout(tmp_path / "J6.dct")] == [(1, 4), (5, 7)]
    (tmp_path / "J7.do").write_text(
        "infix\n long V1191  1 - 5   ER30001  6 - 9   str3 V2  10 - 12\nusing J7.txt, clear\n;\n"
    )
    assert [(f.name, f.start, f.end) for f in read_layout(tmp_path / "J7.do")] == [
        ("V1191", 1, 5),
        ("ER30001", 6, 9),
        ("V2", 10, 12),
    ]


def test_crlf_setup_and_data():
    layout = read_layout(J3)
    assert layout.kind == "do" and layout.width == 23 and layout.label("ER21395").endswith("(WF)")
    pd.testing.assert_frame_equal(read_fixed_width(J3), read_fixed_width(J1))


BAD_LAYOUTS = [
    (r"ER33701( +)9 - 13", r"ER33701\g<1>8 - 13", "overlaps ER30002", 19),
    (r"ER33702( +)14 - 15", r"ER33702\g<1> 1 -  2", "comes before ER33701", 19),
    (r"ER33703( +)16 - 17", r"ER33703\g<1>17 - 16", "not positive", 19),
    (r"ER33703( +)16 - 17", r"ER33702\g<1>16 - 17", "defined twice", 19),
    (r"ER33703( +)16 - 17", r"ER33703\g<1>16 to 17", "cannot read", 19),
    (r"MAX_REC_LENGTH   : 23", "MAX_REC_LENGTH   : 25", "record length of 25", None),
    (r"N_OF_VARIABLES   : 8 ", "N_OF_VARIABLES   : 9 ", "N_OF_VARIABLES 9", None),
    (r"\ninfix\n", "\n", "no infix statement", None),
]


@pytest.mark.parametrize(("old", "new", "message", "line"), BAD_LAYOUTS)
def test_bad_layouts(tmp_path, old, new, message, line):
    data = copy_fixture(tmp_path, "J100001")
    edit(tmp_path / "J100001.do", old, new, regex=True)
    with pytest.raises(PSIDFormatError, match=re.escape(message)) as error:
        read_layout(data)
    assert error.value.path == tmp_path / "J100001.do"
    assert error.value.line == line
    with pytest.raises(PSIDFormatError, match=re.escape(message)):
        read_psid(data)


def test_bad_sps_and_sas(tmp_path):
    copy_fixture(tmp_path, "J100001", (".sps", ".sas"))
    edit(tmp_path / "J100001.sps", "DATA LIST", "DATA LOST")
    with pytest.raises(PSIDFormatError, match="no DATA LIST"):
        read_layout(tmp_path / "J100001.sps")
    edit(tmp_path / "J100001.sas", "LRECL = 23", "LRECL = 24")
    with pytest.raises(PSIDFormatError, match="LRECL = 24"):
        read_layout(tmp_path / "J100001.sas")
    edit(tmp_path / "J100001.sas", "   INPUT ", "   INPOT ")
    with pytest.raises(PSIDFormatError, match="no INPUT statement"):
        read_layout(tmp_path / "J100001.sas")


# ---------------------------------------------------------------------- the data
def small_layout(*fields: tuple[str, int, int]) -> Layout:
    return Layout.from_fields(fields)


def test_numbers_blanks_signs_and_justification(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(" 12   712 \n22      3 \n  -3 .5  4\n    +10   ")  # no newline at the end
    table = read_fixed_width(path, small_layout(("A", 1, 4), ("B", 5, 7), ("C", 8, 10)))
    expected = pd.DataFrame({"A": [12, 22, -3, np.nan], "B": [7, np.nan, 0.5, 10], "C": [12, 3, 4, np.nan]})
    pd.testing.assert_frame_equal(table, expected)


def test_mixed_line_ends_and_trailing_blanks(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b" 1 2\r\n 3 4   \n 5 6\r\n\n")
    table = read_fixed_width(path, small_layout(("A", 1, 2), ("B", 3, 4)))
    assert table.to_numpy().tolist() == [[1, 2], [3, 4], [5, 6]]


AB = (("A", 1, 2), ("B", 3, 4))


@pytest.mark.parametrize(
    ("content", "fields", "message", "line", "variable"),
    [
        (b" 1 2\n 3\n", AB, "line 2: the row has 2 characters but the layout needs 4 (variable B", 2, "B"),
        (b" 1 2\n 3 4X\n", AB, "line 2: the row has 5 characters, beyond the 4", 2, None),
        (b" 1 2\n 3x4\n", AB, "line 2: variable B in columns 3 - 4 holds 'x4', which is not a number", 2, "B"),
        (b" 1  2\n1 3 4\n", (("A", 1, 3), ("B", 4, 5)), "line 2: variable A in columns 1 - 3 holds '1 3'", 2, "A"),
        (b"  \n\n", AB, "is empty", None, None),
    ],
)
def test_bad_data(tmp_path, content, fields, message, line, variable):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    with pytest.raises(PSIDFormatError, match=re.escape(message)) as error:
        read_fixed_width(path, small_layout(*fields))
    assert (error.value.line, error.value.variable) == (line, variable)


def test_row_count_must_match_the_header(tmp_path):
    data = copy_fixture(tmp_path, "J100001")
    data.write_text("\n".join(SURVEY_FORMATS_ROWS[:3]) + "\n")
    with pytest.raises(PSIDFormatError, match=r"has 3 rows but .* declares N_OF_OBSERVATIONS 4"):
        read_psid(data)


# ----------------------------------------------------------------- the docs/survey-formats.md fixture
def test_survey_formats_fixture_panel():
    panel = read_psid(J1)
    assert rows(panel) == [
        (4001, 2003, occ1990dd("occ2000", 22), "head"),
        (4002, 2003, occ1990dd("occ2000", 313), "spouse"),  # the wife's own occupation, not the head's 22
        (1501170, 2003, occ1990dd("occ2000", 962), "head"),
    ]
    lineage = panel.lineage
    assert lineage.rows_read == 4 * 2
    assert lineage.dropped_by_reason() == {NOT_IN_UNIT: 2, OTHER: 3}
    check_lineage(panel)
    assert panel.metadata["occupation_variables"]["ER21395"]["origin"] == "built-in"
    assert panel.metadata["wave_ids"]["2003"]["interview"] == "ER33701"
    assert panel.metadata["occ1990dd_variant"] == "dorn2013"


@pytest.mark.parametrize("setup", [".sps", ".sas"])
def test_each_setup_format_gives_the_same_panel(setup):
    reference = read_psid(J1)
    panel = read_psid(J1, layout=FIXTURES / f"J100001{setup}")
    pd.testing.assert_frame_equal(panel.data, reference.data)
    assert panel.lineage.to_dict()["dropped"] == reference.lineage.to_dict()["dropped"]
    assert panel.metadata["setup_kind"] == setup.lstrip(".")


def test_crlf_variant_gives_the_same_panel():
    pd.testing.assert_frame_equal(read_psid(J3).data, read_psid(J1).data)


def test_setup_file_path_finds_the_data():
    pd.testing.assert_frame_equal(read_psid(FIXTURES / "J100001.sas").data, read_psid(J1).data)


# ---------------------------------------------------------------------- the five-wave extract
EXPECTED_J2 = [
    (4001, 1997, ("occ1970", 201), "head"),
    (4001, 1999, ("occ1970", 201), "head"),
    (4001, 2003, ("occ2000", 22), "head"),
    (4001, 2005, ("occ2000", 22), "head"),
    (4001, 2017, ("occ2010", 20), "head"),
    (4002, 1997, ("occ1970", 313), "spouse"),
    (4002, 1999, ("occ1970", 313), "spouse"),  # relationship 22 (cohabiting) counts as spouse
    (4002, 2003, ("occ2000", 313), "spouse"),
    (4002, 2017, ("occ2010", 2310), "spouse"),
    (1501170, 1997, ("occ1970", 962), "head"),
    (1501170, 2003, ("occ2000", 962), "head"),
]


@pytest.mark.parametrize("variant", ["dorn2013", "deming2017"])
def test_multi_wave_panel(variant):
    panel = read_psid(J2, variant=variant)
    assert rows(panel) == [(p, y, occ1990dd(*code, variant=variant), r) for p, y, code, r in EXPECTED_J2]
    lineage = panel.lineage
    assert lineage.rows_read == 6 * 10
    assert lineage.dropped_by_reason() == {
        NOT_IN_UNIT: 20,
        "not head or spouse in this wave": 8,
        OTHER: 16,
        "missing value (blank)": 1,  # 6001001, 2005
        "0 inapplicable (no occupation reported)": 1,  # 4002's 2005 occupation
        "999 DK/NA": 1,  # 1501170, 1999
        "9999 DK/NA": 1,  # 4003, head in 2017
        "not an occ2010 code": 1,  # 5012030: 1234
    }
    check_lineage(panel)
    assert sorted(set(panel.data.year)) == [1997, 1999, 2003, 2005, 2017]  # no 1998: waves as observed


def test_multi_wave_variables_and_where_their_meaning_came_from():
    panel = read_psid(J2, layout=FIXTURES / "J100002.sas")
    meta = panel.metadata
    found = {n: (v["year"], v["role"], v["frame"], v["origin"]) for n, v in meta["occupation_variables"].items()}
    assert found == {
        "ER12085": (1997, "head", "occ1970", "built-in"),
        "ER12116": (1997, "spouse", "occ1970", "label"),
        "ER13215": (1999, "head", "occ1970", "built-in"),
        "ER13727": (1999, "spouse", "occ1970", "label"),
        "ER21145": (2003, "head", "occ2000", "built-in"),
        "ER21395": (2003, "spouse", "occ2000", "built-in"),
        "ER25127": (2005, "head", "occ2000", "built-in"),
        "ER25385": (2005, "spouse", "occ2000", "label"),
        "ER66195": (2017, "head", "occ2010", "built-in"),
        "ER66446": (2017, "spouse", "occ2010", "label"),
    }
    assert meta["wave_ids"]["2017"] == {
        "year": 2017,
        "interview": "ER34501",
        "sequence": "ER34502",
        "relation": "ER34503",
        "origin": "label",
    }
    assert meta["wave_ids"]["1997"]["origin"] == "built-in"
    pd.testing.assert_frame_equal(panel.data, read_psid(J2).data)


def test_role_selection():
    heads = read_psid(J2, roles=("head",))
    assert rows(heads) == [r for r in rows(read_psid(J2)) if r[3] == "head"]
    assert heads.lineage.dropped_by_reason() == {
        "role not selected": 30,
        NOT_IN_UNIT: 10,
        "not head in this wave": 9,
        "missing value (blank)": 1,
        "999 DK/NA": 1,
        "9999 DK/NA": 1,
        "not an occ2010 code": 1,
    }
    check_lineage(heads)
    spouses = read_psid(J2, roles="spouse")
    assert [r[:2] for r in rows(spouses)] == [(4002, 1997), (4002, 1999), (4002, 2003), (4002, 2017)]
    assert spouses.lineage.dropped_by_reason() == {
        "role not selected": 30,
        NOT_IN_UNIT: 10,
        "not spouse in this wave": 15,
        "0 inapplicable (no occupation reported)": 1,
    }
    check_lineage(spouses)
    with pytest.raises(ValueError, match="roles"):
        read_psid(J2, roles=("wife",))


def test_wave_selection():
    panel = read_psid(J2, waves=[2003, 2017])
    assert [r[:2] for r in rows(panel)] == [(4001, 2003), (4001, 2017), (4002, 2003), (4002, 2017), (1501170, 2003)]
    dropped = panel.lineage.dropped_by_reason()
    assert dropped["wave not selected"] == 6 * 6
    assert (dropped[NOT_IN_UNIT], dropped["not head or spouse in this wave"], dropped[OTHER]) == (8, 2, 7)
    check_lineage(panel)
    with pytest.raises(ValueError, match=r"waves \[2001\] have no occupation variable"):
        read_psid(J2, waves=[2001, 2003])


def test_person_selection():
    panel = read_psid(J2, persons=[4001, 1501170])
    assert {p for p, *_ in rows(panel)} == {4001, 1501170} and len(panel) == 7
    dropped = panel.lineage.dropped_by_reason()
    assert (dropped["person not selected"], dropped[NOT_IN_UNIT], dropped[OTHER]) == (40, 4, 8)
    check_lineage(panel)
    with pytest.raises(ValueError, match=r"persons \[4004\] are not in"):
        read_psid(J2, persons=[4001, 4004])


def test_unmapped_codes_can_raise():
    with pytest.raises(UnmappedCodeError, match="1234"):
        read_psid(J2, on_unmapped="raise")


# ---------------------------------------------------------------------- variables without labels or table entries
def unlabelled_j2() -> Layout:
    return Layout.from_fields((f.name, f.start, f.end) for f in read_layout(J2))


def test_waves_without_known_ids_need_labels_or_wave_ids():
    layout = unlabelled_j2()
    with pytest.raises(PSIDFormatError, match=r"wave\(s\) \[2017\].*wave_ids="):
        read_psid(J2, layout=layout)
    spouses = {
        "ER12116": {"year": 1997, "role": "spouse"},
        "ER13727": {"year": 1999, "role": "wife"},
        "ER25385": {"year": 2005, "role": "spouse", "frame": "occ2000"},
        "ER66446": {"year": 2017, "role": "spouse"},
    }
    panel = read_psid(J2, layout=layout, wave_ids={2017: ("ER34501", "ER34502", "ER34503")}, occupation_vars=spouses)
    pd.testing.assert_frame_equal(panel.data, read_psid(J2).data)
    assert panel.metadata["occupation_variables"]["ER66446"]["origin"] == "user"
    assert panel.metadata["wave_ids"]["2017"]["origin"] == "user"
    # without the spouse variables, only the built-in head (and 2003 wife) variables are read
    heads_only = read_psid(J2, layout=layout, wave_ids={2017: ("ER34501", "ER34502", "ER34503")})
    assert heads_only.lineage.rows_read == 6 * 6


def test_user_can_leave_out_or_override_a_variable():
    panel = read_psid(J1, occupation_vars={"ER21395": None})
    assert [r[0] for r in rows(panel)] == [4001, 1501170]
    assert panel.lineage.rows_read == 4
    relabelled = read_psid(J1, occupation_vars={"er21145": {"year": 2003, "role": "head", "frame": "occ2010"}})
    assert relabelled.metadata["occupation_variables"]["ER21145"]["frame"] == "occ2010"
    with pytest.raises(ValueError, match="'year' and 'role'"):
        read_psid(J1, occupation_vars={"ER21145": {"role": "head"}})
    with pytest.raises(ValueError, match="no 3-digit occupation codes in 1975"):
        read_psid(J1, occupation_vars={"ER21145": {"year": 1975, "role": "head"}})
    with pytest.raises(PSIDFormatError, match="ER99999, which is not in the layout"):
        read_psid(J1, occupation_vars={"ER99999": {"year": 2003, "role": "head"}})


WIFE_2000 = "DE20 MAIN OCC FOR JOB 1: 2000 CODE (WF)"


def labelled(*fields: tuple[str, str]) -> Layout:
    """A layout of 3-column fields with these labels (after ER30001/ER30002)."""
    spec = [("ER30001", 1, 4), ("ER30002", 5, 7)] + [(n, 8 + 3 * i, 10 + 3 * i) for i, (n, _) in enumerate(fields)]
    return Layout.from_fields(spec, dict(fields))


def years_of(layout: Layout) -> dict[str, tuple[int, str, int]]:
    found = resolve_occupation_variables(layout, wave_ids=resolve_wave_ids(layout))
    return {n: (v.year, v.role, v.job) for n, v in found.items()}


def test_label_variables_are_placed_by_family_interview_numbers():
    # built-in interview numbers ER25002 (2005) and ER36002 (2007) bound the 2005 family file
    assert years_of(labelled(("ER25385", WIFE_2000))) == {"ER25385": (2005, "spouse", 1)}
    # an individual-file "2013 INTERVIEW NUMBER" is not a family file's
    assert years_of(labelled(("ER34201", "2013 INTERVIEW NUMBER"), ("ER25385", WIFE_2000))) == {
        "ER25385": (2005, "spouse", 1)
    }
    # 2013: bounded by the labelled 2013 and 2015 interview numbers
    wife_2013 = ("ER53442", WIFE_2000)
    fences = [("ER53002", "2013 FAMILY INTERVIEW (ID) NUMBER"), ("ER60002", "2015 FAMILY INTERVIEW (ID) NUMBER")]
    assert years_of(labelled(fences[0], wife_2013, fences[1])) == {"ER53442": (2013, "spouse", 1)}
    # the last wave of the extract: its interview number is enough
    head_job2 = ("ER53241", "BC20 MAIN OCC FOR JOB 2: 2000 CODE (HD)")
    assert years_of(labelled(fences[0], head_job2, wife_2013)) == {
        "ER53241": (2013, "head", 2),
        "ER53442": (2013, "spouse", 1),
    }


@pytest.mark.parametrize(
    "fields",
    [
        [("ER53442", WIFE_2000)],  # above the last built-in interview number (2011) with nothing to bound it
        [("ER53442", WIFE_2000), ("ER60002", "2015 FAMILY INTERVIEW (ID) NUMBER")],  # 2011 .. 2015: two waves
        [  # the 2013 interview number is there, but so is a later wave whose family file is not bounded
            ("ER53002", "2013 FAMILY INTERVIEW (ID) NUMBER"),
            ("ER53442", WIFE_2000),
            ("ER34301", "2015 INTERVIEW NUMBER"),
            ("ER34302", "SEQUENCE NUMBER 15"),
            ("ER34303", "RELATION TO HEAD 15"),
        ],
    ],
)
def test_label_variables_that_cannot_be_placed(fields):
    with pytest.raises(PSIDFormatError, match=r"ER53442 \(DE20 MAIN OCC.*cannot be placed in a wave.*occupation_vars"):
        years_of(labelled(*fields))


def test_conflicting_or_duplicated_occupation_labels():
    with pytest.raises(PSIDFormatError, match=r"ER21145 is labelled .*built-in PSID table lists it as the head's 2003"):
        years_of(labelled(("ER21145", WIFE_2000)))
    with pytest.raises(PSIDFormatError, match="ER25385 and ER25390 are both the spouse's job-1 occupation of 2005"):
        years_of(labelled(("ER25385", WIFE_2000), ("ER25390", WIFE_2000)))
    with pytest.raises(PSIDFormatError, match="no crosswalk for Census 2018 codes"):
        years_of(labelled(("ER25385", "DE20 MAIN OCC FOR JOB 1: 2018 CODE (WF)")))
    # industry and "last occupation" labels are not occupations of the current main job
    assert years_of(labelled(("ER21146", "BC21 MAIN IND FOR JOB 1: 2000 CODE (HD)"))) == {}
    assert years_of(labelled(("V11684", "B49-50 LAST OCC    (H-E)"))) == {}


def test_second_job_is_superseded_by_the_first(tmp_path):
    layout = Layout.from_fields(
        [(n, s, e) for n, s, e in [("ER30001", 1, 4), ("ER30002", 5, 7)]]
        + [(n, 8 + 3 * i, 10 + 3 * i) for i, n in enumerate(["ER33701", "ER33702", "ER33703", "ER21145", "ER21201"])],
        {"ER21201": "BC20 MAIN OCC FOR JOB 2: 2000 CODE (HD)"},
    )
    data = tmp_path / "J7.txt"
    data.write_text("   4  1 12  1 10 22313\n   5  1 13  1 10  0962\n")
    panel = read_psid(data, layout=layout)
    assert rows(panel) == [
        (4001, 2003, occ1990dd("occ2000", 22), "head"),
        (5001, 2003, occ1990dd("occ2000", 962), "head"),
    ]
    dropped = panel.lineage.dropped_by_reason()
    assert dropped["superseded by a higher-priority occupation variable"] == 1
    assert dropped["0 inapplicable (no occupation reported)"] == 1


# ---------------------------------------------------------------------- errors of the reader
def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("J404.txt does not exist")):
        read_psid(tmp_path / "J404.txt")
    with pytest.raises(FileNotFoundError, match=re.escape("no data file J100001.txt beside")):
        shutil.copy(FIXTURES / "J100001.sps", tmp_path / "J100001.sps")
        read_psid(tmp_path / "J100001.sps")


def test_empty_data_file(tmp_path):
    data = copy_fixture(tmp_path, "J100001")
    data.write_text("")
    with pytest.raises(PSIDFormatError, match=re.escape("J100001.txt is empty")):
        read_psid(data)


@pytest.mark.parametrize("missing", ["ER30001", "ER30002"])
def test_layout_without_person_ids(missing):
    layout = Layout.from_fields((f.name, f.start, f.end) for f in read_layout(J1) if f.name != missing)
    with pytest.raises(PSIDFormatError, match=f"layout has no {missing}") as error:
        read_psid(J1, layout=layout)
    assert error.value.variable == missing


def test_layout_without_the_wave_relationship():
    layout = Layout.from_fields((f.name, f.start, f.end) for f in read_layout(J1) if f.name != "ER33703")
    with pytest.raises(PSIDFormatError, match=r"wave\(s\) \[2003\].*2003: add ER33703 to the extract"):
        read_psid(J1, layout=layout)


def test_width_mismatch(tmp_path):
    data = copy_fixture(tmp_path, "J100001")
    data.write_text("\n".join([*SURVEY_FORMATS_ROWS[:3], SURVEY_FORMATS_ROWS[3][:-2]]) + "\n")
    with pytest.raises(PSIDFormatError, match=r"J100001.txt, line 4: the row has 21 characters .* ER21395") as error:
        read_psid(data)
    assert (error.value.line, error.value.variable) == (4, "ER21395")


def test_non_numeric_code(tmp_path):
    data = copy_fixture(tmp_path, "J100001")
    data.write_text("\n".join([SURVEY_FORMATS_ROWS[0], SURVEY_FORMATS_ROWS[1][:-3] + "3X3", *SURVEY_FORMATS_ROWS[2:]]))
    message = "J100001.txt, line 2: variable ER21395 (DE20 MAIN OCC FOR JOB 1: 2000 CODE (WF)) in columns 21 - 23"
    with pytest.raises(PSIDFormatError, match=re.escape(message)) as error:
        read_psid(data)
    assert (error.value.line, error.value.variable) == (2, "ER21395")


def test_duplicated_person_ids(tmp_path):
    data = copy_fixture(tmp_path, "J100001")
    data.write_text("\n".join([*SURVEY_FORMATS_ROWS[:3], SURVEY_FORMATS_ROWS[0]]) + "\n")
    with pytest.raises(PSIDFormatError, match=r"lines 1 and 4: the same individual \(ER30001 = 4, ER30002 = 1"):
        read_psid(data)


def test_blank_person_number(tmp_path):
    data = copy_fixture(tmp_path, "J100001")
    data.write_text("\n".join([*SURVEY_FORMATS_ROWS[:2], "1   4       0 0 0  0  0", SURVEY_FORMATS_ROWS[3]]))
    with pytest.raises(PSIDFormatError, match="line 3: ER30002 is blank"):
        read_psid(data)


# ---------------------------------------------------------------------- tables
def test_built_in_tables_follow_survey_formats():
    assert WAVE_IDS[1968] == ("ER30001", None, "ER30003") and WAVE_IDS[2011] == ("ER34101", "ER34102", "ER34103")
    assert set(WAVE_IDS) == {1968, 1969, 1970, *range(1993, 1998), *range(1999, 2012, 2)}
    heads = {v.year: n for n, v in OCCUPATION_VARIABLES.items() if v.role == "head"}
    assert (heads[1981], heads[1993], heads[1997], heads[1999], heads[2001]) == (
        "V7712",
        "V22456",
        "ER12085",
        "ER13215",
        "ER17226",
    )
    assert (heads[2003], heads[2015], heads[2017]) == ("ER21145", "ER60194", "ER66195")
    assert sorted(heads) == [*range(1981, 1998), *range(1999, 2018, 2)]
    assert {OCCUPATION_VARIABLES[n].frame for n in ("V7712", "ER17226", "ER21145", "ER60194", "ER66195")} == {
        "occ1970",
        "occ2000",
        "occ2010",
    }
    assert (frame_for_year(1980), frame_for_year(2001), frame_for_year(2003), frame_for_year(2019)) == (
        None,
        "occ1970",
        "occ2000",
        "occ2010",
    )
    assert relationship_codes(1982) == {"head": (1,), "spouse": (2,)}
    assert relationship_codes(1983) == {"head": (10,), "spouse": (20, 22)}
    assert [y for y in range(1995, 2004) if is_wave(y)] == [1995, 1996, 1997, 1999, 2001, 2003]

"""Tests for laborseq.sources.resumes.read_resumes: job spells -> one occ1990dd state per person-year."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laborseq.occupations.crosswalk import UnmappedCodeError, crosswalk
from laborseq.occupations.occ1990dd import occ1990dd
from laborseq.sources.resumes.person_years import LINEAGE_UNIT
from laborseq.sources.resumes.reader import read_resumes
from laborseq.sources.resumes.spells import ResumeFormatError

FIXTURES = Path(__file__).parent / "fixtures" / "resumes"
CSV = FIXTURES / "spells.csv"
PARQUET = FIXTURES / "spells.parquet"
COLUMNS = ["person_id", "start_date", "end_date", "occ", "education", "location"]

# The fixture (occ2010 codes), worked by hand. Rows are 0-based data rows.
#   person 1: r0 10 (-> 4) 2010-01-15..2012-06-30; r1 2200 (-> 154) 2012-03-01..2014-12-31 (longest in 2012:
#             306 vs 182 days); r2 2310 (-> 156) Jan-Sep 2015 and r3 5700 (-> 313) Oct 2015-2016: 2015 is r2
#             under "longest" (273 vs 92 days) and r3 under "last" (held on 31 December)
#   person 2: month and year precision; 2007-2008 are a gap
#   person 3: r6 ongoing from 2016-05-01 (runs to the latest date in the file, 2019-12-31); r7 2014-2016/04
#   person 4: r8, r9 code 12345 (unmapped): 2011 is a gap, 2012 falls back to r10 (9130 -> 804)
#   person 5: r11 unparseable start, r12 unparseable end, r13 end before start; r14 800 (-> 23) in 2015
#   person 6: r15 and r16 both 90 days in 2018: the later start (r16, 4700 -> 243) wins; r17 duplicates r16
#   person 7: r18 and r19 identical dates: the earlier row (r18, 20 -> 22, WA) wins
#   person 8: r20 blank code (2017 gap), r21 9920 -> unemployed, r22 0 = no occupation (2019 gap)
#   r23: missing person id
LONGEST = [
    (1, 2010, "4", "BA", "NY"),
    (1, 2011, "4", "BA", "NY"),
    (1, 2012, "154", "MA", "NY"),
    (1, 2013, "154", "MA", "NY"),
    (1, 2014, "154", "MA", "NY"),
    (1, 2015, "156", "MA", "MA"),
    (1, 2016, "313", "MA", "CA"),
    (2, 2005, "276", "HS", "TX"),
    (2, 2006, "276", "HS", "TX"),
    (2, 2009, "436", "HS", "TX"),
    (2, 2010, "436", "HS", "TX"),
    (3, 2014, "447", "AA", "IL"),
    (3, 2015, "447", "AA", "IL"),
    (3, 2016, "95", "BSN", "IL"),
    (3, 2017, "95", "BSN", "IL"),
    (3, 2018, "95", "BSN", "IL"),
    (3, 2019, "95", "BSN", "IL"),
    (4, 2012, "804", "HS", "OH"),
    (4, 2013, "804", "HS", "OH"),
    (5, 2015, "23", "BA", "NY"),
    (6, 2018, "243", "HS", "FL"),
    (7, 2019, "22", "PhD", "WA"),
    (8, 2018, "unemployed", "HS", "NV"),
]
LAST = [r if (r[0], r[1]) != (1, 2015) else (1, 2015, "313", "MA", "CA") for r in LONGEST]
DROPPED = {
    "missing person id": 1,
    "unparseable start date": 1,
    "unparseable end date": 1,
    "end date before start date": 1,
    "exact duplicate of an earlier spell": 1,
    "missing value (blank)": 1,
    "no occupation (occ2010 code meaning none)": 1,
    "not an occ2010 code": 2,
    "superseded by a higher-priority occupation variable": 5,
}


def read(path: Path = CSV, **kwargs):
    kwargs = {"frame": "occ2010", "education": "education", "location": "location", **kwargs}
    return read_resumes(path, **kwargs)


def rows_of(panel) -> list[tuple]:
    data = panel.data
    columns = [data[c].tolist() for c in ["person_id", "year", "occ", "education", "location"]]
    return [(p, int(y), str(s), e, loc) for p, y, s, e, loc in zip(*columns, strict=True)]


def write_csv(tmp_path: Path, rows: list[list], name: str = "spells.csv", columns: list[str] = COLUMNS) -> Path:
    path = tmp_path / name
    frame = pd.DataFrame(rows, columns=columns)
    frame.to_csv(path, index=False)
    return path


def assert_same_panel(a, b) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.scheme == b.scheme
    assert a.covariates == b.covariates
    assert a.lineage.to_dict() == b.lineage.to_dict()


# ---------------------------------------------------------------------- the fixture, worked by hand


@pytest.mark.parametrize("path", [CSV, PARQUET], ids=["csv", "parquet"])
@pytest.mark.parametrize(("rule", "expected"), [("longest", LONGEST), ("last", LAST)])
def test_fixture_panel(path: Path, rule: str, expected: list[tuple]) -> None:
    panel = read(path, rule=rule)
    assert rows_of(panel) == expected
    assert panel.scheme == occ1990dd("dorn2013")
    assert panel.covariates == ("education", "location")
    assert panel.time_varying_covariates == ("education", "location")
    assert panel.name == "spells"


@pytest.mark.parametrize("path", [CSV, PARQUET], ids=["csv", "parquet"])
def test_fixture_lineage(path: Path) -> None:
    lineage = read(path).lineage
    assert lineage.unit == LINEAGE_UNIT == "spell-year"
    assert lineage.source == str(path)
    assert lineage.rows_read == 37  # 33 spell-years of the valid spells + 4 invalid spells
    assert lineage.dropped_by_reason() == DROPPED
    assert lineage.rows_kept == 23
    details = {s.reason: s.detail for s in lineage.steps}
    assert details["missing person id"]["rows"] == [23]
    assert details["unparseable start date"]["rows"] == [11]
    assert details["unparseable end date"]["rows"] == [12]
    assert details["end date before start date"]["rows"] == [13]
    assert details["exact duplicate of an earlier spell"] == {"spells": 1, "rows": [17]}
    assert details["not an occ2010 code"]["codes"] == {"12345": 2}
    assert [s.stage for s in lineage.steps][:5] == ["read", "read", "read", "read", "spells"]


def test_csv_and_parquet_give_the_same_panel() -> None:
    csv_panel, parquet_panel = read(CSV), read(PARQUET)
    pd.testing.assert_frame_equal(csv_panel.data, parquet_panel.data)
    steps = [(s.stage, s.reason, s.count, s.detail) for s in csv_panel.lineage.steps]
    assert steps == [(s.stage, s.reason, s.count, s.detail) for s in parquet_panel.lineage.steps]


@pytest.mark.parametrize("path", [CSV, PARQUET], ids=["csv", "parquet"])
@pytest.mark.parametrize("rule", ["longest", "last"])
def test_batch_size_does_not_change_the_panel(path: Path, rule: str) -> None:
    whole = read(path, rule=rule, batch_size=10**6)
    for batch_size in (3, 1, 7):
        assert_same_panel(read(path, rule=rule, batch_size=batch_size), whole)
    assert whole.metadata == read(path, rule=rule, batch_size=3).metadata


def test_metadata() -> None:
    meta = read(rule="last").metadata
    assert meta["source"] == "resumes"
    assert meta["frame"] == "occ2010" and meta["rule"] == "last"
    assert meta["ongoing_until"] == "2019-12-31"
    assert meta["current_year"] is None and meta["years"] is None
    assert meta["columns"]["occ"] == "occ" and meta["columns"]["education"] == "education"
    assert meta["occ1990dd_variant"] == "dorn2013"
    assert meta["lineage"] == read(rule="last").lineage.to_dict()


# ---------------------------------------------------------------------- rules


def test_gaps_are_not_filled() -> None:
    years = {p: sorted(int(y) for y in g["year"]) for p, g in read().data.groupby("person_id")}
    assert years[2] == [2005, 2006, 2009, 2010]
    assert years[4] == [2012, 2013]
    assert years[8] == [2018]


def test_ongoing_spell_runs_to_the_latest_date_in_the_file() -> None:
    data = read().data
    assert data.loc[data["person_id"] == 3, "year"].max() == 2019


def test_ongoing_spell_runs_to_current_year() -> None:
    panel = read(current_year=2021)
    person3 = panel.data[panel.data["person_id"] == 3]
    assert person3["year"].tolist() == [2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021]
    assert panel.metadata["ongoing_until"] == "2021-12-31"
    assert panel.lineage.rows_read == 39


def test_ongoing_spell_that_starts_after_current_year_is_invalid() -> None:
    panel = read(current_year=2015)
    person3 = panel.data[panel.data["person_id"] == 3]
    assert person3["year"].tolist() == [2014, 2015, 2016]  # r7 only: 2016 from its Jan-Apr
    assert panel.lineage.dropped_by_reason()["ongoing spell starts after current_year"] == 1
    assert panel.lineage.rows_read == len(panel) + panel.lineage.rows_dropped


def test_rule_longest_counts_days_in_the_year(tmp_path: Path) -> None:
    rows = [
        [1, "2010-01-01", "2010-06-30", 10, "a", "x"],  # 181 days
        [1, "2010-07-01", "2011-03-31", 20, "b", "y"],  # 184 days in 2010
        [2, "2012-01-01", "2012-06-30", 10, "a", "x"],  # 182 days (leap year)
        [2, "2012-07-01", "2012-12-29", 20, "b", "y"],  # 182 days: tie -> later start
    ]
    longest = read(write_csv(tmp_path, rows))
    assert rows_of(longest) == [(1, 2010, "22", "b", "y"), (1, 2011, "22", "b", "y"), (2, 2012, "22", "b", "y")]


def test_rule_last_prefers_the_job_held_latest_in_the_year(tmp_path: Path) -> None:
    rows = [
        [1, "2010-01-01", "2010-11-30", 10, "a", "x"],
        [1, "2010-03-01", "2010-10-31", 20, "b", "y"],
        [2, "2010-01-01", "2010-06-30", 10, "a", "x"],  # neither job is held on 31 December
        [2, "2009-01-01", "2010-06-30", 20, "b", "y"],  # same last day: the later start wins
        [3, "2010-01-01", "2010-12-31", 10, "a", "x"],
        [3, "2010-12-31", "2011-05-31", 20, "b", "y"],  # one day, on 31 December
    ]
    last = read(write_csv(tmp_path, rows), rule="last")
    assert [(p, y, s) for p, y, s, _, _ in rows_of(last)] == [
        (1, 2010, "4"),
        (2, 2009, "22"),
        (2, 2010, "4"),
        (3, 2010, "22"),
        (3, 2011, "22"),
    ]
    longest = read(write_csv(tmp_path, rows), rule="longest")
    assert [(p, y, s) for p, y, s, _, _ in rows_of(longest)][3] == (3, 2010, "4")


def test_first_choice_with_unmappable_code_falls_back_to_the_next_job(tmp_path: Path) -> None:
    rows = [
        [1, "2010-01-01", "2010-10-31", 12345, "a", "x"],
        [1, "2010-01-01", "2010-12-31", None, "b", "y"],
        [1, "2010-06-01", "2010-12-31", 20, "c", "z"],
    ]
    panel = read(write_csv(tmp_path, rows))
    assert rows_of(panel) == [(1, 2010, "22", "c", "z")]  # covariates follow the spell that gave the state
    assert panel.lineage.dropped_by_reason() == {"missing value (blank)": 1, "not an occ2010 code": 1}


def test_years_as_a_range_and_as_a_set() -> None:
    panel = read(years=(2012, 2016))
    assert sorted(set(panel.data["year"])) == [2012, 2013, 2014, 2015, 2016]
    outside = panel.lineage.dropped_by_reason()["year outside years=2012-2016"]
    assert outside == 17  # r0 2, r4 2, r5 2, r6 3, r8 1, r15-r16 2, r18-r19 2, r20-r22 3
    assert panel.lineage.rows_read == len(panel) + panel.lineage.rows_dropped
    full = read()
    kept = full.data[full.data["year"].between(2012, 2016)].reset_index(drop=True)
    pd.testing.assert_frame_equal(panel.data, kept)
    chosen = read(years=[2010, 2018])
    assert sorted(set(chosen.data["year"])) == [2010, 2018]
    assert sorted(set(read(years=range(2010, 2012)).data["year"])) == [2010, 2011]


def test_exact_duplicates_count_their_spell_years(tmp_path: Path) -> None:
    rows = [
        [1, "2010-01-01", "2012-12-31", 10, "a", "x"],
        [1, "2010-01-01", "2012-12-31", 10, "a", "x"],
        [1, "2010-01-01", "2012-12-31", 10, "a", "y"],  # another location: not a duplicate
        [1, "2010-01", "2012", 10, "a", "x"],  # the same dates after parsing: a duplicate
    ]
    panel = read(write_csv(tmp_path, rows))
    step = next(s for s in panel.lineage.steps if s.stage == "spells")
    assert (step.reason, step.count, step.detail) == (
        "exact duplicate of an earlier spell",
        6,
        {"spells": 2, "rows": [1, 3]},
    )
    assert panel.lineage.dropped_by_reason()["superseded by a higher-priority occupation variable"] == 3
    assert panel.data["location"].tolist() == ["x", "x", "x"]


# ---------------------------------------------------------------------- dates, codes, keys


def test_date_formats_and_partial_dates(tmp_path: Path) -> None:
    rows = [
        [1, "2010/02/01", "2010/02", 10, "a", "x"],  # all of February: 28 days
        [1, "2010.03.01", "2010-03-20", 20, "b", "y"],  # 20 days
        [2, "2011", "2011", 10, "a", "x"],  # the whole year
        [2, "2011-06-01T08:30:00", "2011-12-31 17:00", 20, "b", "y"],
        [3, " 2012-2-3 ", "2012-02-29", 10, "a", "x"],  # leap day
        [4, "2013-02-29", "2013-03-01", 10, "a", "x"],  # no 29 February in 2013
        [5, "0999-01-01", "2000-01-01", 10, "a", "x"],  # year outside 1000-3000
    ]
    panel = read(write_csv(tmp_path, rows))
    assert [(p, y, s) for p, y, s, _, _ in rows_of(panel)] == [(1, 2010, "4"), (2, 2011, "4"), (3, 2012, "4")]
    assert panel.lineage.dropped_by_reason()["unparseable start date"] == 2


def test_typed_parquet_dates_and_integer_years(tmp_path: Path) -> None:
    table = pa.table(
        {
            "pid": pa.array(["a", "a", "b", "b"]),
            "begin": pa.array([dt.date(2010, 1, 1), dt.date(2010, 9, 1), dt.date(2011, 1, 1), None], pa.date32()),
            "finish": pa.array(
                [dt.datetime(2010, 8, 31, 12), None, dt.datetime(2011, 12, 31), dt.datetime(2012, 1, 1)],
                pa.timestamp("us"),
            ),
            "code": pa.array([4.0, 22.0, None, 23.0]),
        }
    )
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    panel = read_resumes(path, person="pid", start="begin", end="finish", occ="code", frame="occ1990dd")
    assert [(p, int(y), str(s)) for p, y, s in panel.data[["person_id", "year", "occ"]].itertuples(index=False)] == [
        ("a", 2010, "4"),
        ("a", 2011, "22"),
    ]
    assert panel.metadata["ongoing_until"] == "2011-12-31"
    assert panel.lineage.dropped_by_reason() == {
        "missing start date": 1,
        "missing value (blank)": 1,
        "superseded by a higher-priority occupation variable": 1,  # 2010: 243 days of "4" beat 122 of "22"
    }

    years = pa.table({"person_id": [1, 1], "start_date": [2001, 2003], "end_date": [2002, None], "occ": [4, 22]})
    pq.write_table(years, tmp_path / "years.parquet")
    panel = read_resumes(tmp_path / "years.parquet", current_year=2004)
    assert panel.data["year"].tolist() == [2001, 2002, 2003, 2004]


def test_person_keys(tmp_path: Path) -> None:
    rows = [["007", "2010", "2010", 10], ["7", "2011", "2011", 10], [" x1 ", "2010", "2010", 20]]
    panel = read_resumes(write_csv(tmp_path, rows, columns=COLUMNS[:4]), frame="occ2010")
    assert panel.data["person_id"].tolist() == ["007", "7", "x1"]  # text keys are trimmed, kept as text
    rows = [["12", "2010", "2010", 10], ["3", "2011", "2011", 10]]
    panel = read_resumes(write_csv(tmp_path, rows, columns=COLUMNS[:4]), frame="occ2010")
    assert panel.data["person_id"].tolist() == [3, 12]
    assert panel.data["person_id"].dtype == np.int64


def test_string_keys_are_batch_invariant(tmp_path: Path) -> None:
    rows = [
        [f"p{i % 4}", f"{2000 + i % 5}-0{1 + i % 9}-01", f"{2001 + i % 5}-06-30", [10, 20, 800][i % 3]]
        for i in range(30)
    ]
    path = write_csv(tmp_path, rows, columns=COLUMNS[:4])
    whole = read_resumes(path, frame="occ2010")
    assert_same_panel(read_resumes(path, frame="occ2010", batch_size=4), whole)


def test_occ1990dd_frame(tmp_path: Path) -> None:
    rows = [
        [1, "2000", "2000", 4],
        [1, "2001", "2001", 905],
        [1, "2002", "2002", 991],
        [1, "2003", "2003", 999],
        [1, "2004", "2004", 874],
        [1, "2005", "2005", 12345],
        [1, "2006", "2006", 9],
    ]
    path = write_csv(tmp_path, rows, columns=COLUMNS[:4])
    dorn = read_resumes(path)
    assert [(int(y), str(s)) for y, s in zip(dorn.data["year"], dorn.data["occ"], strict=True)] == [
        (2000, "4"),
        (2001, "military"),
        (2002, "unemployed"),
        (2004, "873"),
    ]
    assert dorn.lineage.dropped_by_reason() == {
        "no occupation (occ1990dd code meaning none)": 1,
        "unmapped occ1990dd code": 2,
    }
    deming = read_resumes(path, variant="deming2017")
    assert [str(s) for s in deming.data["occ"]] == ["4", "military", "unemployed", "9"]
    assert deming.scheme == occ1990dd("deming2017")
    with pytest.raises(
        UnmappedCodeError,
        match=r"column 'occ': 2 occ1990dd code\(s\) that the dorn2013 crosswalk does not map.*12345 \(1x\)",
    ):
        read_resumes(path, on_unmapped="raise")


def test_census_frames(tmp_path: Path) -> None:
    rows = [[1, "1990", "1990", 3], [1, "1991", "1991", 2200]]
    path = write_csv(tmp_path, rows, columns=COLUMNS[:4])
    assert [str(s) for s in read_resumes(path, frame="occ1990").data["occ"]] == ["4"]
    assert [str(s) for s in read_resumes(path, frame="occ2000_4digit").data["occ"]] == ["154"]


def test_compressed_csv_and_tsv(tmp_path: Path) -> None:
    with CSV.open("rb") as src, gzip.open(tmp_path / "spells.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    panel = read(tmp_path / "spells.csv.gz")
    assert rows_of(panel) == LONGEST and panel.name == "spells"
    pd.read_csv(CSV, dtype=str, keep_default_na=False).to_csv(tmp_path / "spells.tsv", sep="\t", index=False)
    assert rows_of(read(tmp_path / "spells.tsv")) == LONGEST


def test_parquet_without_a_parquet_suffix_is_sniffed(tmp_path: Path) -> None:
    shutil.copy(PARQUET, tmp_path / "spells.data")
    assert rows_of(read(tmp_path / "spells.data")) == LONGEST


def test_columns_may_be_renamed(tmp_path: Path) -> None:
    frame = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    frame.columns = ["id", "from", "to", "soc", "edu", "state"]
    frame.to_csv(tmp_path / "renamed.csv", index=False)
    panel = read_resumes(
        tmp_path / "renamed.csv",
        person="id",
        start="from",
        end="to",
        occ="soc",
        frame="occ2010",
        education="edu",
        location="state",
    )
    assert rows_of(panel) == LONGEST
    assert panel.metadata["columns"] == {
        "person": "id",
        "start": "from",
        "end": "to",
        "occ": "soc",
        "education": "edu",
        "location": "state",
    }


def test_without_covariates() -> None:
    panel = read_resumes(CSV, frame="occ2010")
    assert panel.covariates == ()
    assert [(p, y, s) for p, y, s, _, _ in LONGEST] == [
        (p, int(y), str(s)) for p, y, s in panel.data[["person_id", "year", "occ"]].itertuples(index=False)
    ]


# ---------------------------------------------------------------------- errors


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match=r"no_such\.csv does not exist"):
        read_resumes(FIXTURES / "no_such.csv")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ResumeFormatError, match=r"empty.csv: empty file"):
        read_resumes(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(ResumeFormatError, match=r"header.csv: no spells \(the file has a header only\)"):
        read_resumes(tmp_path / "header.csv")
    pq.write_table(pq.read_table(PARQUET).slice(0, 0), tmp_path / "empty.parquet")
    with pytest.raises(ResumeFormatError, match=r"empty.parquet: no spells"):
        read_resumes(tmp_path / "empty.parquet")


def test_missing_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(ResumeFormatError, match=r"spells.csv: column\(s\) \['occupation'\] not found") as info:
        read_resumes(CSV, occ="occupation")
    assert info.value.column == "occupation"
    with pytest.raises(ResumeFormatError, match=r"column\(s\) \['edu'\] not found.*'education'"):
        read_resumes(PARQUET, education="edu")


def test_non_numeric_codes_name_file_row_and_column(tmp_path: Path) -> None:
    rows = [[1, "2010", "2010", "10"], [1, "2011", "2011", "nurse"], [2, "2010", "2010", "22x"]]
    path = write_csv(tmp_path, rows, columns=COLUMNS[:4])
    with pytest.raises(ResumeFormatError, match=r"spells.csv: non-numeric occ2010 code\(s\) in column 'occ'") as info:
        read_resumes(path, frame="occ2010", batch_size=1)
    message = str(info.value)
    assert "'nurse'" in message and "row(s) [1]" in message and "CSV lines [3]" in message
    assert info.value.column == "occ" and info.value.rows == [1]


def test_non_integer_codes_raise(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [[1, "2010", "2010", "22.5"]], columns=COLUMNS[:4])
    with pytest.raises(ResumeFormatError, match=r"non-integer occ2010 code\(s\) in column 'occ', e.g. 22.5, at 1 row"):
        read_resumes(path, frame="occ2010")
    path = write_csv(tmp_path, [[1, "2010", "2010", "22.0"]], columns=COLUMNS[:4])
    assert [str(s) for s in read_resumes(path, frame="occ1990dd").data["occ"]] == ["22"]


def test_all_rows_invalid_raises(tmp_path: Path) -> None:
    rows = [[1, "soon", "2010", 10], [2, "2012", "2011", 10], [None, "2010", "2010", 10]]
    path = write_csv(tmp_path, rows, columns=COLUMNS[:4])
    with pytest.raises(ResumeFormatError, match=r"none of the 3 spell\(s\) is valid") as info:
        read_resumes(path, frame="occ2010")
    assert "'unparseable start date': 1" in str(info.value) and "'end date before start date': 1" in str(info.value)


def test_on_unmapped_raise_lists_codes_with_file_rows() -> None:
    with pytest.raises(
        UnmappedCodeError,
        match=r"column 'occ': 1 code\(s\) that are not codes of the occ2010 frame.*12345 \(2x\).*\[8, 9\]",
    ) as info:
        read(on_unmapped="raise")
    table = info.value.unmapped
    assert table["code"].tolist() == [12345] and table["count"].tolist() == [2] and table["rows"].tolist() == [[8, 9]]


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="rule must be one of"):
        read(rule="first")
    with pytest.raises(ValueError, match="unknown occupation frame 'soc2018'"):
        read(frame="soc2018")
    with pytest.raises(ValueError, match="unknown occ1990dd variant"):
        read(variant="autor")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        read(batch_size=0)
    with pytest.raises(ValueError, match="on_unmapped"):
        read(on_unmapped="keep")
    with pytest.raises(ValueError, match="first <= last"):
        read(years=(2015, 2010))
    with pytest.raises(ValueError, match="current_year"):
        read(current_year=99)


def test_bad_csv_row_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("person_id,start_date,end_date,occ\n1,2010,2010,10\n2,2010,2010,10,extra\n")
    with pytest.raises(ResumeFormatError, match=r"ragged.csv: cannot parse CSV"):
        read_resumes(path, frame="occ2010")


# ---------------------------------------------------------------------- property: against a reference


def reference(spells: list[tuple], rule: str) -> tuple[dict, int]:
    """Expected {(person, year): (state, education)} and rows read, computed spell by spell in plain Python."""
    cw = crosswalk("occ2010")
    valid = [(i, s) for i, s in enumerate(spells) if s[2] is None or s[2] >= s[1]]
    ceiling = max([s[1] for _, s in valid] + [s[2] for _, s in valid if s[2] is not None])
    rows_read = len(spells) - len(valid) + sum((e or ceiling).year - s.year + 1 for _, (_, s, e, _, _) in valid)
    unique, seen = [], set()
    for i, spell in valid:
        if spell not in seen:  # exact duplicates are dropped
            seen.add(spell)
            person, start, end, code, education = spell
            unique.append((i, person, start, end or ceiling, code, education))
    candidates: dict[tuple, list] = {}
    for i, person, start, end, code, education in unique:
        for year in range(start.year, end.year + 1):
            held_from, held_to = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
            primary = (held_to - held_from).days + 1 if rule == "longest" else held_to.toordinal()
            state = None if code is None else cw.mapping.get(code)  # None: blank, unmapped or no occupation
            item = ((-primary, -start.toordinal(), i), state, education)
            candidates.setdefault((person, year), []).append(item)
    expected = {}
    for key, items in candidates.items():
        kept = [(state, edu) for _, state, edu in sorted(items, key=lambda x: x[0]) if state is not None]
        if kept:
            expected[key] = kept[0]
    return expected, rows_read


day = st.integers(0, 6 * 365).map(lambda d: dt.date(2000, 1, 1) + dt.timedelta(days=d))
spell = st.tuples(
    st.integers(1, 4),
    day,
    st.one_of(st.none(), st.integers(-30, 900)),
    st.one_of(st.none(), st.sampled_from([10, 20, 230, 800, 2200, 4700, 9920, 0, 12345])),
    st.sampled_from(["HS", "BA", None]),
)


@settings(max_examples=30, deadline=None)
@given(raw=st.lists(spell, min_size=1, max_size=25), rule=st.sampled_from(["longest", "last"]), batch=st.integers(1, 7))
def test_matches_a_plain_python_reference(raw: list[tuple], rule: str, batch: int) -> None:
    spells = [(p, s, None if n is None else s + dt.timedelta(days=n), c, e) for p, s, n, c, e in raw]
    if all(end is not None and end < start for _, start, end, _, _ in spells):
        return  # no valid spell: rejected, tested above
    rows = [[p, s.isoformat(), e and e.isoformat(), c, edu] for p, s, e, c, edu in spells]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(Path(tmp), rows, columns=COLUMNS[:5])
        panel = read_resumes(path, frame="occ2010", rule=rule, batch_size=batch, education="education")
        whole = read_resumes(path, frame="occ2010", rule=rule, education="education")
    expected, rows_read = reference(spells, rule)
    data = panel.data
    got = {
        (p, int(y)): (str(s), None if pd.isna(e) else e)
        for p, y, s, e in data[["person_id", "year", "occ", "education"]].itertuples(index=False)
    }
    assert got == expected
    lineage = panel.lineage
    assert lineage.rows_read == rows_read
    assert lineage.rows_read == len(panel) + lineage.rows_dropped
    assert not panel.data.duplicated(["person_id", "year"]).any()
    assert_same_panel(panel, whole)

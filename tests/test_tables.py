"""A user's own table (CSV, TSV, Stata, parquet) as a panel: one logical table, every format, the same panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laborseq.occupations.crosswalk import crosswalk
from laborseq.sources.tables import TableFormatError, read_table, table_format

COLUMNS = {"person": "pid", "year": "wave", "occ": "occ10", "covariates": ["sex", "educ"], "weight": "wt"}


def user_table(n_persons: int = 40, seed: int = 0) -> pd.DataFrame:
    """A user's long table: own column names, raw 2010 Census codes, a blank code, a code that is no 2010 code."""
    rng = np.random.default_rng(seed)
    codes = [10, 20, 2200, 3255, 4720, 5700, 9920]
    rows = []
    for p in range(n_persons):
        sex = rng.choice(["female", "male"])
        for y in range(2010, 2010 + int(rng.integers(2, 6))):
            rows.append((f"P{p:03d}", y, float(rng.choice(codes)), sex, int(rng.integers(10, 18)), rng.uniform(0.5, 2)))
    frame = pd.DataFrame(rows, columns=["pid", "wave", "occ10", "sex", "educ", "wt"])
    frame.loc[3, "occ10"] = np.nan
    frame.loc[5, "occ10"] = 12345.0  # not a 2010 code
    return frame


def write(frame: pd.DataFrame, path, kind: str):
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif kind == "csv.gz":
        frame.to_csv(path, index=False, compression="gzip")
    elif kind == "dta":
        labelled = frame.assign(sex=frame["sex"].astype("category"))  # Stata value labels
        labelled.to_stata(path, write_index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("kind", ["csv", "tsv", "csv.gz", "dta", "parquet"])
def test_every_format_reads_to_the_same_harmonised_panel(kind, tmp_path):
    frame = user_table()
    reference = read_table(write(frame, tmp_path / "ref.csv", "csv"), from_scheme="occ2010", **COLUMNS)
    panel = read_table(write(frame, tmp_path / f"careers.{kind}", kind), from_scheme="occ2010", **COLUMNS)
    pd.testing.assert_frame_equal(
        panel.data.assign(sex=panel.data["sex"].astype(str)),
        reference.data.assign(sex=reference.data["sex"].astype(str)),
        check_dtype=False,  # Stata stores small integers as int32
    )
    assert panel.lineage.dropped_by_reason() == reference.lineage.dropped_by_reason()
    assert panel.name == "careers" and panel.has_weight and panel.static_covariates == ("sex",)
    # the states are what the crosswalk says, row by row
    kept = frame.dropna(subset=["occ10"])
    kept = kept[kept["occ10"] != 12345]
    result = crosswalk("occ2010").apply(kept["occ10"])
    expected = pd.Series(result.states.astype(str), index=pd.MultiIndex.from_arrays([kept["pid"], kept["wave"]]))
    got = panel.data.set_index(["person_id", "year"])["occ"].astype(str)
    assert got.sort_index().equals(expected.sort_index().rename("occ").rename_axis(["person_id", "year"]))


def test_the_lineage_counts_blank_codes_and_codes_of_another_frame(tmp_path):
    panel = read_table(write(user_table(), tmp_path / "c.csv", "csv"), from_scheme="occ2010", **COLUMNS)
    assert panel.lineage.dropped_by_reason() == {"missing value (blank)": 1, "not an occ2010 code": 1}
    assert panel.lineage.rows_read == len(user_table())
    assert panel.metadata["from_scheme"] == "occ2010"


def test_states_as_they_are(tmp_path):
    frame = pd.DataFrame({"person_id": [1, 1, 2, 2], "year": [2000, 2001, 2000, 2001], "occ": ["a", "b", None, "a"]})
    panel = read_table(write(frame, tmp_path / "s.csv", "csv"))
    assert panel.states == ("a", "b") and len(panel) == 3
    assert panel.lineage.dropped_by_reason() == {"blank occupation (occ)": 1}


def test_stata_value_labels_become_categories(tmp_path):
    frame = user_table()
    panel = read_table(write(frame, tmp_path / "c.dta", "dta"), from_scheme="occ2010", **COLUMNS)
    assert set(panel.data["sex"].astype(str)) == {"female", "male"}


def test_a_laborseq_parquet_reads_as_written(tmp_path, toy_panel):
    path = toy_panel.to_parquet(tmp_path / "p.parquet")
    panel = read_table(path, person="ignored")
    pd.testing.assert_frame_equal(panel.data, toy_panel.data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda f: f.rename(columns={"wave": "yr"}),
            r"c.csv: no column\(s\) \['wave'\]; the file has columns: pid, yr",
        ),
        (lambda f: f.assign(wave=f["wave"].astype(object).where(f.index != 2, None)), r"'wave' is blank in 1 row"),
        (lambda f: f.assign(wave=f["wave"].where(f.index != 4, 2010.5)), r"'wave' holds 2010.5 in data row 5"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), r"person 'P000' has 2 rows for year 2010 .* keep one row per person"),
        (lambda f: f.assign(occ10=f["occ10"].astype(object).where(f.index != 6, "nurse")), r"'occ10' holds 'nurse'"),
    ],
    ids=["missing-column", "blank-year", "fractional-year", "repeated-person-year", "text-code"],
)
def test_errors_name_the_file_column_and_rows(edit, message, tmp_path):
    path = write(edit(user_table()), tmp_path / "c.csv", "csv")
    with pytest.raises(TableFormatError, match=message):
        read_table(path, from_scheme="occ2010", **COLUMNS)


def test_static_covariates_are_checked(tmp_path):
    frame = user_table()
    frame.loc[1, "sex"] = "female" if frame.loc[0, "sex"] == "male" else "male"
    match = r"c.csv: CareerPanel: static covariate 'sex' varies within 1 person\(s\) \['P000'\]"
    with pytest.raises(TableFormatError, match=match):
        read_table(write(frame, tmp_path / "c.csv", "csv"), from_scheme="occ2010", static=["sex"], **COLUMNS)


def test_formats_and_missing_files(tmp_path):
    assert table_format("a/b.CSV") == "csv" and table_format("x.tsv.gz") == "tsv" and table_format("y.dta") == "stata"
    with pytest.raises(TableFormatError, match=r"x.xlsx: cannot tell the file's format"):
        table_format("x.xlsx")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_table(tmp_path / "none.csv")
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    with pytest.raises(TableFormatError, match="cannot be read as a parquet file"):
        read_table(broken)
